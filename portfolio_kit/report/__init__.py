"""The report layer: wording, style, tables and figures of the pages, the executive summary and the PDF.

===================  ==================================================================================
:mod:`.texts`        the EN/IT catalogue (``catalogue/*.yaml``), numbers and dates the language's way
:mod:`.style`        theme, palette, table CSS and number formats of every page
:mod:`.tables`       tables and key figures a notebook saves to its run, and the run's workbook
:mod:`.plots`        one module of figures per analysis
:mod:`.summary`      the executive summary, read from the tables of a run
:mod:`.browser`      headless Chromium: the report printed to PDF
===================  ==================================================================================

The report imports the analyses (their constants and result shapes) and the data layer, never the runner.
"""
