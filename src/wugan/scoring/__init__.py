"""The hardship visit model: features from the lake, labels from visit outcomes, skops artifacts."""
