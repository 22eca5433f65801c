# TSN, RGB: a small version of MMAction2's TSN recipe that trains in minutes on a CPU: ResNet-18 on
# 96-pixel crops of 112-pixel frames, 5 training segments, 8 centre-cropped test segments. Same
# pipeline, optimiser and step schedule otherwise; see tsn_paper.py for the published recipe.
_base_ = 'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'

max_epochs = 30
short_side, crop_size = 112, 96


def _sized(pipeline, num_clips=None, test_crop=None):
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'SampleFrames' and num_clips:
            step['num_clips'] = num_clips
        elif step['type'] == 'Resize':
            step['scale'] = (-1, short_side) if step['scale'][0] == -1 else (crop_size, crop_size)
        elif step['type'] == 'MultiScaleCrop':
            step['input_size'] = crop_size
        elif step['type'] in ('CenterCrop', 'TenCrop'):
            step = dict(type=test_crop or step['type'], crop_size=crop_size)
        out.append(step)
    return out


train_pipeline = _sized(_base_.train_pipeline, num_clips=5)
val_pipeline = _sized(_base_.val_pipeline, num_clips=5)
test_pipeline = _sized(_base_.test_pipeline, num_clips=8, test_crop='CenterCrop')

model = dict(backbone=dict(depth=18, pretrained=None), cls_head=dict(in_channels=512))

train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                      dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                       dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(_base_.param_scheduler[0], end=max_epochs, milestones=[12, 24])]
# The recipe's lr 0.01 is for batch 256 with ImageNet weights; from scratch at batch 16, 0.02.
optim_wrapper = dict(optimizer=dict(lr=0.02, nesterov=False))
default_hooks = dict(logger=dict(interval=10))
load_from = None
