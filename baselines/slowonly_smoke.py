# SlowOnly, RGB: a tiny version of MMAction2's SlowOnly recipe for tests (seconds on a CPU): a
# ResNet3d-18 of 8-64 channels on 8 frames 4 apart, 56-pixel crops of 64-pixel frames, centre-crop
# testing, 24 epochs. Same pipeline, optimiser and warm-up + cosine schedule otherwise; see
# slowonly_paper.py for the published recipe.
_base_ = 'mmaction::recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py'

max_epochs, warmup = 24, 3  # the recipe warms up for 34 of 256 epochs
short_side, crop_size = 64, 56
sampling = dict(clip_len=8, frame_interval=4)


def _sized(pipeline, num_clips=None, test_crop=None):
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'SampleFrames':
            step.update(sampling, **({'num_clips': num_clips} if num_clips else {}))
        elif step['type'] == 'Resize':
            step['scale'] = (-1, short_side) if step['scale'][0] == -1 else (crop_size, crop_size)
        elif step['type'] == 'CenterCrop':
            step['crop_size'] = crop_size
        elif step['type'] == 'ThreeCrop':
            step = dict(type=test_crop, crop_size=crop_size) if test_crop else \
                dict(step, crop_size=short_side)
        out.append(step)
    return out


train_pipeline = _sized(_base_.train_pipeline)
val_pipeline = _sized(_base_.val_pipeline)
test_pipeline = _sized(_base_.test_pipeline, num_clips=1, test_crop='CenterCrop')

model = dict(backbone=dict(depth=18, base_channels=8), cls_head=dict(in_channels=64))

train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=1)
param_scheduler = [dict(_base_.param_scheduler[0], end=warmup),
                   dict(_base_.param_scheduler[1], begin=warmup, end=max_epochs,
                        T_max=max_epochs - warmup)]
# The recipe's lr 0.2 is for batch 128 (8 GPUs x 16). On synthetic mini-xsub (90 training
# clips) lr 0.1 for 24 epochs reached 30% top-1, lr 0.05 for 12 epochs stayed at chance.
optim_wrapper = dict(optimizer=dict(lr=0.1, nesterov=False))
default_hooks = dict(logger=dict(interval=10))
load_from = None
