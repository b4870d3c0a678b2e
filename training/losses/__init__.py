"""Self-supervised depth losses, one concept per module.

Modules:
    ssim: per-pixel structural dissimilarity, (1 - SSIM) / 2.
    photometric: SSIM + L1 appearance error between two images.
    reprojection: per-pixel minimum over source views with auto-masking.
    smoothness: edge-aware smoothness of the network's (mean-normalised) sigmoid map.
    self_supervised: all of the above combined over frames and scales (Monodepth2's loss).
    supervised: DRN's log, gradient and normal losses against ground-truth depth.
    feature_reconstruction: warped-feature L1 with per-pixel minimum (dual networks).
    pyramid: FA-Depth's pyramid terms: extra input resolutions, flip and colour consistency.
    distillation: APX distillation of a teacher's depth with the position mask.
"""
