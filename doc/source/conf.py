# Documentation of cleura-billing-dashboard, built by `tox -e docs`
# (sphinx-build -W: a warning fails the build).

import re

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


# oslo.config reads option help as reStructuredText, where a word ending in
# "_" is a link: "sk_live_..." and "whsec_..." in the [stripe] help would
# fail the build as links to nowhere. Escape that underscore in the
# generated reference only; the help text itself stays as it is.
_LINK_LOOKALIKE = re.compile(r'(?<=\w)_(?=\.\.\.)')


def _escape_link_lookalikes():
    from oslo_config import sphinxext
    format_help = sphinxext._format_option_help

    def escaped(*args, **kwargs):
        for line in format_help(*args, **kwargs):
            yield _LINK_LOOKALIKE.sub(r'\\_', line)

    sphinxext._format_option_help = escaped


def setup(app):
    _escape_link_lookalikes()
