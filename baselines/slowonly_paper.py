# SlowOnly, RGB: MMAction2 1.2.0's published Kinetics-400 recipe trained from scratch, applied to
# NTU RGB+D. Everything comes from the shipped config: ResNet3dSlowOnly-50, 4 frames 16 apart
# (4x16x1), RandomResizedCrop 224 + flip, 256 epochs (34 linear warm-up, then cosine), SGD lr 0.2
# (8 GPUs x 16), clip_grad 40, validation every 5 epochs, 10 test clips x ThreeCrop 256.
# bench fills in ann_file, splits, num_classes, decoding steps, work_dir and seed.
# Difference: none in the recipe (it is the from-scratch one; no weights needed). MMAction2
# publishes no SlowOnly RGB recipe for NTU RGB+D; this is its Kinetics one.
_base_ = 'mmaction::recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py'

# The method config bench runs this file with: MMAction2's recipe values, restated so that bench
# reads them without importing mmaction (model=dict(): the recipe's model as it is), plus bench's
# own (render_size: side of clips rendered from synthetic skeletons; video_root None: the videos
# are under the data root). tests/methods/test_mmaction_rgb.py checks they equal what this file inherits.
bench = dict(
    model=dict(),
    epochs=256, repeat=1, clip_len=4, frame_interval=16, num_clips=1, val_clips=1, test_clips=10,
    test_crop='ThreeCrop', short_side=256, crop_size=224, render_size=256,
    batch_size=16, test_batch_size=1, num_workers=8,
    lr=0.2, momentum=0.9, weight_decay=1e-4, nesterov=False, auto_scale_lr=True,
    val_interval=5, checkpoint='best', deterministic=False, nproc=1, video_root=None)

optim_wrapper = dict(optimizer=dict(nesterov=bench['nesterov']))  # torch's SGD default, stated
# The lr is for a total batch of 128 (8 x 16): scale it linearly on fewer GPUs.
auto_scale_lr = dict(enable=bench['auto_scale_lr'], base_batch_size=128)
load_from = None
