"""Sphinx settings of the course's website (``make site``; fmnist_utils/tooling/site.py)."""

project = "Fashion-MNIST: from pixels to a CNN"
author = "The Fashion-MNIST CNN course authors"
copyright = "the course authors, MIT licence"

extensions = ["myst_nb", "sphinx.ext.autodoc", "fmnist_utils.tooling.sitemath"]
html_math_renderer = "mathml"
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # lessons arrive executed (fmnist_utils/tooling/site.py)
nb_merge_streams = True
exclude_patterns = ["_build", "lessons/_notebooks", "**.ipynb_checkpoints"]
# no lexer for the roster example's csv fence (the hub test reads it by that name)
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "Fashion-MNIST: from pixels to a CNN"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_js_files = ["site.js"]
html_favicon = "_static/favicon.png"
html_use_index = False  # a course, not an API: no general index
html_domain_indices = False
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": "https://github.com/fmnist-course/fmnist-course",
    "use_repository_button": True,
    "use_download_button": False,
    "navigation_with_keys": False,
}
