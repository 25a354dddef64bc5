"""The interactive tools of the lessons, built with ipywidgets, written once.

Each function returns a widget (display it as a cell's last expression);
nothing is displayed at import. The functions are grouped by lesson.
"""

from __future__ import annotations

# --- Lesson 1: image browser ---------------------------------------------------


# --- Lesson 3: kernel editor -----------------------------------------------------


# --- Lesson 8: bring your own image --------------------------------------------
