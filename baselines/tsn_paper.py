# TSN, RGB: MMAction2 1.2.0's published Kinetics-400 recipe, applied to NTU RGB+D.
# Everything comes from the shipped config: ResNet-50, 3 segments (1x1x3), MultiScaleCrop 224 +
# flip, 100 epochs, SGD lr 0.01 (8 GPUs x 32), steps at 40 and 80, clip_grad 40, 3 val segments,
# 25 test segments x TenCrop 224. bench fills in ann_file, splits, num_classes, decoding steps.
# Differences: the recipe starts from ImageNet weights (a torchvision URL, unreachable here and
# not reproducible offline): bench trains from scratch unless you put weights in load_from
# yourself. MMAction2 publishes no TSN recipe for NTU RGB+D; this is its Kinetics one.
_base_ = 'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'

model = dict(backbone=dict(pretrained=None))
optim_wrapper = dict(optimizer=dict(nesterov=False))  # torch's SGD default, stated
# The lr is for a total batch of 256 (8 x 32): scale it linearly on fewer GPUs, as MMAction2's
# `tools/train.py --auto-scale-lr` does; on 8 GPUs this changes nothing.
auto_scale_lr = dict(enable=True, base_batch_size=256)
load_from = None
