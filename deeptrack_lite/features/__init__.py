"""Features and samples: hand-crafted descriptors of the classic trackers, candidate samplers shared by every
tracker that samples, and the ImageNet CNN backbones with named feature taps (:func:`backbone`)."""
from .backbones import Backbone, EfficientNetLite0, backbone, download_vgg16, efficientnet_lite0
from .handcrafted import bhattacharyya, color_bins, color_histograms, epanechnikov_kernel, hog_features, kernel_histogram
from .sampling import (gaussian_samples, negative_samples, positive_and_negative_samples, positive_samples,
                       samples_in_iou_range, translation_grid, uniform_samples, visible_training_samples,
                       whole_image_samples)

__all__ = ["Backbone", "EfficientNetLite0", "backbone", "download_vgg16", "efficientnet_lite0", "bhattacharyya", "color_bins", "color_histograms", "epanechnikov_kernel", "gaussian_samples",
           "hog_features", "kernel_histogram", "negative_samples", "positive_and_negative_samples", "positive_samples",
           "samples_in_iou_range", "translation_grid",
           "uniform_samples", "visible_training_samples", "whole_image_samples"]
