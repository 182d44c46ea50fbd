"""nianbao: the archive of China's 政府信息公开工作年度报告.

`nianbao.archive` holds the schema and the store, `nianbao.assemble` turns captured files
into report records, `nianbao.cli` is the `nianbao` command.
"""

__version__ = "0.1.0"
