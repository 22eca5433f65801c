# 2s-AGCN (AAGCN backbone with attention off, as MMAction2 ships it), joint stream, NTU RGB+D 3D
# skeletons: MMAction2 1.2.0's published recipe, unchanged (16 epochs x RepeatDataset(5), u100,
# 10 test clips, SGD 0.1 nesterov, cosine, 8 GPUs x 16). bench fills in per run: ann_file, split
# names, num_classes, graph layout, stream (GenSkeFeat feats), work_dir and seed.
_base_ = 'mmaction::skeleton/2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

# lr 0.1 is for a total batch of 128: scaled linearly on fewer GPUs (MMAction2's --auto-scale-lr).
auto_scale_lr = dict(enable=True, base_batch_size=128)
load_from = None  # trained from scratch, as published
