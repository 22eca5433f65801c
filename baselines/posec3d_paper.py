# PoseC3D (Duan et al. CVPR 2022), joint heatmaps, SlowOnly-R50: MMAction2 1.2.0's published NTU60
# X-Sub recipe, unchanged (24 epochs x RepeatDataset(10) = 240 passes, u48, 56x56 heatmaps with
# sigma 0.6, 10 test clips with flip, SGD 0.2 wd 3e-4 with grad clipping, cosine, 8 GPUs x 16).
# The recipe's data are 2D HRNet keypoints; bench feeds the suite's skeletons through its
# SkeletonToPose2D step (3D: depth dropped, seen from the front; 2D: as they are), prepended by
# the adapter with the layout's left/right joints for Flip. bench fills in per run: ann_file,
# split names, num_classes, in_channels (= joints), work_dir and seed.
_base_ = 'mmaction::skeleton/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py'

auto_scale_lr = dict(enable=True, base_batch_size=128)  # lr 0.2 is for 8 x 16 samples
load_from = None
