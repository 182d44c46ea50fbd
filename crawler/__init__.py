"""The Scrapy project: spiders walk portals' 年报 listings and yield raw documents; the
pipelines keep every byte and hand it to `parsers` through `nianbao.assemble`."""
