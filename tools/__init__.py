"""Tools for developing nianbao, not part of the installed package: the sample reports and
their corpus, the parser evaluation, the demo portal's generator."""
