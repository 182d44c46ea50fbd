"""Spiders of the project: `annual_reports` is the one crawl."""
