# TSN, RGB: MMAction2 1.2.0's published Kinetics-400 recipe, applied to NTU RGB+D.
# Everything comes from the shipped config: ResNet-50, 3 segments (1x1x3), MultiScaleCrop 224 +
# flip, 100 epochs, SGD lr 0.01 (8 GPUs x 32), steps at 40 and 80, clip_grad 40, 3 val segments,
# 25 test segments x TenCrop 224. bench fills in ann_file, splits, num_classes, decoding steps.
# Differences: the recipe starts from ImageNet weights (a torchvision URL, unreachable here and
# not reproducible offline): bench trains from scratch unless you put weights in load_from
# yourself. MMAction2 publishes no TSN recipe for NTU RGB+D; this is its Kinetics one.
_base_ = 'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'

# The method config bench runs this file with: MMAction2's recipe values, restated so that bench
# reads them without importing mmaction (model=dict(): the recipe's model as it is), plus bench's
# own (render_size: side of clips rendered from synthetic skeletons; video_root None: the videos
# are under the data root). tests/methods/test_mmaction_rgb.py checks they equal what this file inherits.
bench = dict(
    model=dict(),
    epochs=100, repeat=1, clip_len=1, frame_interval=1, num_clips=3, val_clips=3, test_clips=25,
    test_crop='TenCrop', short_side=256, crop_size=224, render_size=256,
    batch_size=32, test_batch_size=1, num_workers=8,
    lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=False, auto_scale_lr=True,
    val_interval=1, checkpoint='best', deterministic=False, nproc=1, video_root=None)

model = dict(backbone=dict(pretrained=None))
optim_wrapper = dict(optimizer=dict(nesterov=bench['nesterov']))  # torch's SGD default, stated
# The lr is for a total batch of 256 (8 x 32): scale it linearly on fewer GPUs, as MMAction2's
# `tools/train.py --auto-scale-lr` does; on 8 GPUs this changes nothing.
auto_scale_lr = dict(enable=bench['auto_scale_lr'], base_batch_size=256)
load_from = None
