"""Every figure the lessons draw, written once, grouped by kind of figure.

Each function draws on a new figure and returns it, never calling
``plt.show()``: in a notebook the figure appears once, because it is the
cell's last expression; a script can ``savefig`` it. Lessons call them as
``plots.NAME(...)``; which module holds a figure does not matter to them.

The modules, each with one job:

- ``base``: the one figure helper, :func:`~fmnist_utils.plots.base.course_figure`
  (constrained layout, the style sheet ``course.mplstyle`` applied around the
  drawing only, closed in pyplot), and the drawing steps the kinds share.
- ``course.mplstyle``: the style sheet: fonts, relative sizes, colour maps,
  constrained layout. Code names sizes only relative to it (``"small"``).
- ``images``: images and grids of images: samples, one image's pixels,
  per-class images, augmented and preprocessed images, shifted test sets.
- ``matrices``: class-by-class heatmaps: distances, confusion matrix.
- ``charts``: bar and line charts of numbers: class counts, pixel
  histograms, accuracies, per-class scores, predictions, layer sizes,
  shift tolerance.
- ``curves``: training curves (one history reader, one curve function),
  the loss step by step, descent on one weight, and the learning-rate schedule.
- ``diagrams``: how a layer computes: a convolution step, pooling windows,
  receptive fields, backpropagation through a hidden layer.
- ``internals``: what a network computes inside: kernels, filtered images,
  feature maps, saliency.
"""

from fmnist_utils.plots.charts import (
    accuracy_comparison,
    class_balance,
    class_metrics,
    experiment_results,
    layer_sizes,
    pixel_histograms,
    prediction_grid,
    shift_tolerance,
    top_k_bars,
)
from fmnist_utils.plots.curves import (
    compare_curves,
    descent_paths,
    learning_curves,
    learning_rate_schedule,
    overfitting_curves,
    step_losses,
)
from fmnist_utils.plots.diagrams import (
    backprop_diagram,
    convolution_step,
    pooling_grid,
    receptive_field_diagram,
)
from fmnist_utils.plots.images import (
    augmentation_gallery,
    class_images,
    distribution_shift,
    examples_per_class,
    image_grid,
    pixel_values,
    preprocessing_steps,
)
from fmnist_utils.plots.internals import (
    feature_map_row,
    feature_maps,
    filter_gallery,
    filters,
    saliency,
)
from fmnist_utils.plots.matrices import confusion_matrix, distance_matrix

__all__ = [
    "accuracy_comparison",
    "augmentation_gallery",
    "backprop_diagram",
    "class_balance",
    "class_images",
    "class_metrics",
    "compare_curves",
    "confusion_matrix",
    "convolution_step",
    "descent_paths",
    "distance_matrix",
    "distribution_shift",
    "examples_per_class",
    "experiment_results",
    "feature_map_row",
    "feature_maps",
    "filter_gallery",
    "filters",
    "image_grid",
    "layer_sizes",
    "learning_curves",
    "learning_rate_schedule",
    "overfitting_curves",
    "pixel_histograms",
    "pixel_values",
    "pooling_grid",
    "prediction_grid",
    "preprocessing_steps",
    "receptive_field_diagram",
    "saliency",
    "shift_tolerance",
    "step_losses",
    "top_k_bars",
]
