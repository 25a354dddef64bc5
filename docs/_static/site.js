// The theme's section toggles are <summary> elements with only an icon: give each a
// name that screen readers can announce.
document.addEventListener("DOMContentLoaded", () => {
  for (const summary of document.querySelectorAll("summary")) {
    if (!summary.textContent.trim() && !summary.getAttribute("aria-label")) {
      summary.setAttribute("aria-label", "Show or hide the pages of this section");
    }
  }
});
