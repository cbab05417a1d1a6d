# Documentation of cleura-billing-dashboard, built by `tox -e docs`
# (sphinx-build -W: a warning fails the build).

extensions = [
    # .. show-options:: cleura_billing (the oslo.config.opts entry point)
    'oslo_config.sphinxext',
    # .. show-policy:: (the oslo.policy.policies entry point cleura_billing)
    'oslo_policy.sphinxext',
]

project = 'cleura-billing-dashboard'
copyright = 'Cleura'
master_doc = 'index'
source_suffix = '.rst'
exclude_patterns = []
pygments_style = 'native'

try:
    import openstackdocstheme  # noqa: F401
except ImportError:
    html_theme = 'alabaster'
else:
    extensions.append('openstackdocstheme')
    html_theme = 'openstackdocs'
    # The project is not on opendev nor Launchpad: no repository name and
    # no bug project, so the theme links to neither.
    openstackdocs_use_storyboard = False
    openstackdocs_auto_name = False
