# SlowOnly, RGB: MMAction2 1.2.0's published Kinetics-400 recipe trained from scratch, applied to
# NTU RGB+D. Everything comes from the shipped config: ResNet3dSlowOnly-50, 4 frames 16 apart
# (4x16x1), RandomResizedCrop 224 + flip, 256 epochs (34 linear warm-up, then cosine), SGD lr 0.2
# (8 GPUs x 16), clip_grad 40, validation every 5 epochs, 10 test clips x ThreeCrop 256.
# bench fills in ann_file, splits, num_classes, decoding steps, work_dir and seed.
# Difference: none in the recipe (it is the from-scratch one; no weights needed). MMAction2
# publishes no SlowOnly RGB recipe for NTU RGB+D; this is its Kinetics one.
_base_ = 'mmaction::recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py'

optim_wrapper = dict(optimizer=dict(nesterov=False))  # torch's SGD default, stated
# The lr is for a total batch of 128 (8 x 16): scale it linearly on fewer GPUs.
auto_scale_lr = dict(enable=True, base_batch_size=128)
load_from = None
