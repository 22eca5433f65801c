# ST-GCN, joint stream, NTU RGB+D 3D skeletons: MMAction2 1.2.0's published recipe.
# Everything comes from the shipped config (16 epochs x RepeatDataset(5) = 80 passes, uniform
# 100-frame clips, 10 test clips, SGD 0.1 nesterov, cosine schedule, 8 GPUs x 16 samples).
# bench fills in per run: ann_file, split names, num_classes, graph layout, work_dir and seed.
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

# The lr 0.1 is for a total batch of 128 (8 x 16). On fewer GPUs scale it linearly, as
# MMAction2's `tools/train.py --auto-scale-lr` does; on 8 GPUs this changes nothing.
auto_scale_lr = dict(enable=True, base_batch_size=128)

load_from = None  # trained from scratch, as published: no pretrained weights
