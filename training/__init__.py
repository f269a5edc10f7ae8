"""Training, evaluation and export of Midian's classifier (scikit-learn → ONNX).

Imports :mod:`scanner` for segmentation and features; the scanner never imports this package.
"""
