# PoseC3D (Duan et al. CVPR 2022), joint heatmaps, SlowOnly-R50: MMAction2 1.2.0's published NTU60
# X-Sub recipe, unchanged (24 epochs x RepeatDataset(10) = 240 passes, u48, 56x56 heatmaps with
# sigma 0.6, 10 test clips with flip, SGD 0.2 wd 3e-4 with grad clipping, cosine, 8 GPUs x 16).
# The recipe's data are 2D HRNet keypoints; bench feeds the suite's skeletons through its
# SkeletonToPose2D step (3D: depth dropped, seen from the front; 2D: as they are), prepended by
# the adapter with the layout's left/right joints for Flip. bench fills in per run: ann_file,
# split names, num_classes, in_channels (= joints), work_dir and seed.
_base_ = 'mmaction::skeleton/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py'

# The method config bench runs this file with: MMAction2's recipe values, restated so that bench
# reads them without importing mmaction (model=dict(): the recipe's model as it is).
# tests/methods/test_baselines_registry.py checks they equal what this file inherits.
bench = dict(
    model=dict(),
    epochs=24, repeat=10, clip_len=48, val_clips=1, test_clips=10,
    batch_size=16, test_batch_size=1, num_workers=8,
    # SGD 0.2 per 128 samples (8 x 16), scaled linearly to the real total batch; no nesterov
    lr=0.2, momentum=0.9, weight_decay=3e-4, nesterov=False, auto_scale_lr=True,
    val_interval=1, checkpoint='best', deterministic=False, nproc=1)

auto_scale_lr = dict(enable=bench['auto_scale_lr'], base_batch_size=128)
load_from = None
