"""Drawing results: offline HTML pages, the notebook's report blocks, the index of runs, the sweep page.

The renderer draws any result and knows no study; nothing below it imports it.
"""
