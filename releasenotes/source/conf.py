# Release notes for cleura-billing-dashboard, built by `tox -e releasenotes`.
extensions = ['reno.sphinxext']
project = 'cleura-billing-dashboard Release Notes'
copyright = 'Cleura'
master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = []
html_theme = 'alabaster'
html_static_path = ['_static']
