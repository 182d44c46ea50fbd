"""Settings of the nianbao crawl. Every one can be overridden per run with `-s NAME=VALUE`.

Defaults are polite: government portals are small servers run by small offices.
"""

import os
import shutil

from nianbao import __version__

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- The archive -----------------------------------------------------------------------
# SQLite file the crawl writes into; the raw bytes go beside it, content-addressed
# (archive.db -> archive-files/).
ARCHIVE_DB = os.environ.get("NIANBAO_DB", "archive.db")

ITEM_PIPELINES = {
    # downloads every attachment through Scrapy's downloader into the content store
    "crawler.pipelines.ReportFilesPipeline": 100,
    # parses the page and its files and upserts the report into the archive
    "crawler.pipelines.ArchivePipeline": 200,
}

SPIDER_MIDDLEWARES = {
    # report pages waiting for their parse are bounded: the crawl's memory stays flat
    "crawler.middlewares.ReportsInFlightMiddleware": 950,
}

DOWNLOADER_MIDDLEWARES = {
    # every request, redirect hops included, stays on its listing's site or the
    # registry's file_hosts (ahead of robots.txt: a refused host is not even asked)
    "crawler.middlewares.ConfinementMiddleware": 50,
    # every answer decoded once; challenges and soft 404s refused (after retries and
    # redirects, which sit at 550 and 600)
    "crawler.middlewares.AnswerMiddleware": 60,
    # each source's budget of requests and time: one huge or broken portal cannot hold
    # a registry crawl
    "crawler.middlewares.SourceBudgetMiddleware": 65,
    # report pages and attachments the archive holds asked for with their validators; a
    # 304 is handed on before AnswerMiddleware reads the answer
    "crawler.middlewares.ConditionalGetMiddleware": 70,
    # with NIANBAO_WARC: every request and answer as the server sent it, next to the
    # downloader (before decompression and redirects)
    "crawler.warc.WarcMiddleware": 950,
}
# a folder to write each run's requests and answers into as WARC (off when unset)
NIANBAO_WARC = None

# --- Who we are ---------------------------------------------------------------------------
# Name the project and a contact, so that a webmaster can reach whoever runs the crawl.
# Set NIANBAO_CONTACT to your own address or page before crawling real portals.
CONTACT = os.environ.get("NIANBAO_CONTACT", "set NIANBAO_CONTACT")
USER_AGENT = f"nianbao/{__version__} (+archive of 政府信息公开年报; contact: {CONTACT})"

# --- Politeness ----------------------------------------------------------------------------
ROBOTSTXT_OBEY = True                 # switch off with -s ROBOTSTXT_OBEY=False
CONCURRENT_REQUESTS = 8               # across all portals (a registry crawl raises it: below)
CONCURRENT_REQUESTS_PER_DOMAIN = 1    # one request at a time to each portal
# A registry crawl of many portals raises CONCURRENT_REQUESTS to one place per portal (each
# still at its own pace), up to this; set CONCURRENT_REQUESTS with -s to fix it instead
NIANBAO_MAX_CONCURRENT_REQUESTS = 512
# Outputs of one response (a listing's report links, a page's report) handled at once.
# Scrapy's default, 100, starts 100 tasks for every response although a page yields one
# report: a quarter of an unchanged re-crawl's time went to starting them
CONCURRENT_ITEMS = 8
# Scrapy reads a callback's source (inspect, ast) to warn of a generator returning a value;
# its cache holds callbacks weakly, so it read it again for most responses (2 % of an
# unchanged re-crawl). A check for spider authors, which the tests are here
WARN_ON_GENERATOR_RETURN_VALUE = False
# Scrapy's queue for broad crawls: the next request is for a portal that is not busy, so
# that one large column does not hold the places while the others wait
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
DOWNLOAD_DELAY = 2                    # seconds between requests to one portal
DOWNLOAD_DELAY_JITTER = 0.5            # each delay varies by ±50%
AUTOTHROTTLE_ENABLED = True           # slows down further when a portal answers slowly
AUTOTHROTTLE_START_DELAY = 2
AUTOTHROTTLE_MAX_DELAY = 60
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- Timeouts, retries, sizes -------------------------------------------------------------
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024   # the parsers refuse anything larger anyway
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
# attachments may redirect (download.jsp -> the file)
MEDIA_ALLOW_REDIRECTS = True

# --- Scheduling and re-runs -----------------------------------------------------------------
# A scheduled crawl re-reads every listing and page: unchanged reports are recognised by
# their bytes and cost no parse. To pause and resume one long crawl, pass
# `-s JOBDIR=DIR` (Scrapy keeps its queue and seen requests there; a crawl killed
# outright is recovered by crawler/jobstate.py).
DEPTH_LIMIT = 0
# a 年报 column is rarely more than a few dozen pages; this stops runaway pagination
NIANBAO_MAX_LISTING_PAGES = 200
# report links followed per listing: a county's column, every body and year since 2008,
# holds hundreds; beyond this a listing is broken or hostile (the cap is an errors row)
NIANBAO_MAX_REPORT_LINKS = 5000
# pictures in a report page whose tables are screenshots (crawler/selectors.yaml
# page_images): at most this many per page (0: none), each at most this many bytes and
# pixels (larger ones are not kept: no table screenshot is that large)
NIANBAO_PAGE_IMAGES = 12
NIANBAO_PAGE_IMAGE_MAX_BYTES = 5 * 1024 * 1024
NIANBAO_PAGE_IMAGE_MAX_PIXELS = 25_000_000
# each source's budget in one crawl: listing and report requests (its attachments are not
# counted), and seconds from its first request; 0 for no limit
NIANBAO_SOURCE_MAX_REQUESTS = 20000
NIANBAO_SOURCE_MAX_SECONDS = 6 * 3600

# listings only: report links are counted, not followed (`nianbao sources check`)
NIANBAO_LISTINGS_ONLY = False

# Parsing runs in this many worker processes (default: one per core), so that the crawl
# never waits for a parse; `nianbao reparse --workers` is the same pool
NIANBAO_PARSE_WORKERS = os.cpu_count() or 1
# report pages (with their attachments) downloaded and not yet archived; beyond this the
# crawl stops asking for more until the parse workers catch up (bounds the memory; the
# requests already handed to the downloader, up to CONCURRENT_REQUESTS, still finish)
NIANBAO_REPORTS_IN_FLIGHT = 32

# HTTP cache: off; while developing selectors against a real portal, turn it on
# (-s HTTPCACHE_ENABLED=True) to stop re-fetching the same pages.
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.DummyPolicy"

# --- Browser, for listings drawn by script --------------------------------------------------
# scrapy-playwright renders a listing only when its HTML holds no links (or the registry
# says `browser: true`); report pages and attachments are always fetched over plain HTTP.
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
NIANBAO_BROWSER_FALLBACK = True       # render listings whose HTML holds no report link
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "headless": True,
    # no sandbox (crawls run as a service user or root), and no calls home: the
    # machine's network may allow only the portals
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"],
}
# Debian's chromium (apt), or NIANBAO_CHROMIUM; where neither exists, Playwright's own
# browser (`playwright install chromium`) is used
_CHROMIUM = os.environ.get("NIANBAO_CHROMIUM") or shutil.which("chromium") \
    or shutil.which("chromium-browser")
if _CHROMIUM:
    PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"] = _CHROMIUM
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2

# --- Output -------------------------------------------------------------------------------------
LOG_LEVEL = "INFO"
