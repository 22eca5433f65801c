# TSN, RGB: a tiny version of MMAction2's TSN recipe for tests (seconds on a CPU): ResNet-18 on
# 56-pixel crops of 64-pixel frames, 3 segments, centre-crop testing. Same pipeline, optimiser and
# step schedule otherwise; see tsn_paper.py for the published recipe. bench fills in per run:
# ann_file, split names, num_classes, decoding steps, work_dir and seed.
_base_ = 'mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py'

# The method config bench runs this file with (bench/methods/mmaction_rgb.py says what each key
# means; bench reads this literal without executing the file, so keep it a literal). The
# MMAction2 fields below refer to it: this block is the only place the values live.
bench = dict(
    # ResNet-18 instead of ResNet-50, from scratch (pretrained=None below)
    model=dict(backbone=dict(depth=18), cls_head=dict(in_channels=512)),
    epochs=12, repeat=1, clip_len=1, frame_interval=1, num_clips=3, val_clips=3, test_clips=3,
    test_crop='CenterCrop', short_side=64, crop_size=56, render_size=64,
    batch_size=8, test_batch_size=8, num_workers=0,
    # The recipe's lr 0.01 is for batch 256 from ImageNet weights; from scratch at batch 8 it
    # diverged early on synthetic mini-xsub (23% top-1), lr 0.003 reached 30%.
    lr=0.003,
    momentum=0.9, weight_decay=1e-4, nesterov=False, auto_scale_lr=False,
    val_interval=1, checkpoint='best', deterministic=False, nproc=1, video_root=None)


def _sized(pipeline, num_clips, test_crop=None):
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'SampleFrames':
            step.update(clip_len=bench['clip_len'], frame_interval=bench['frame_interval'],
                        num_clips=num_clips)
        elif step['type'] == 'Resize':
            step['scale'] = (-1, bench['short_side']) if step['scale'][0] == -1 else \
                (bench['crop_size'], bench['crop_size'])
        elif step['type'] == 'MultiScaleCrop':
            step['input_size'] = bench['crop_size']
        elif step['type'] in ('CenterCrop', 'TenCrop'):
            step = dict(type=test_crop or step['type'], crop_size=bench['crop_size'])
        out.append(step)
    return out


train_pipeline = _sized(_base_.train_pipeline, bench['num_clips'])
val_pipeline = _sized(_base_.val_pipeline, bench['val_clips'])
test_pipeline = _sized(_base_.test_pipeline, bench['test_clips'], bench['test_crop'])

model = dict(backbone=dict(bench['model']['backbone'], pretrained=None),
             cls_head=bench['model']['cls_head'])


def _loader(batch_size, pipeline):
    return dict(batch_size=batch_size, num_workers=bench['num_workers'],
                persistent_workers=bench['num_workers'] > 0, dataset=dict(pipeline=pipeline))


train_dataloader = _loader(bench['batch_size'], train_pipeline)
val_dataloader = _loader(bench['batch_size'], val_pipeline)
test_dataloader = _loader(bench['test_batch_size'], test_pipeline)

train_cfg = dict(max_epochs=bench['epochs'], val_interval=bench['val_interval'])
# the recipe's steps at 40% and 80% of training
param_scheduler = [dict(_base_.param_scheduler[0], end=bench['epochs'],
                        milestones=[round(bench['epochs'] * f) for f in (0.4, 0.8)])]
optim_wrapper = dict(optimizer=dict(lr=bench['lr'], momentum=bench['momentum'],
                                    weight_decay=bench['weight_decay'],
                                    nesterov=bench['nesterov']))
auto_scale_lr = dict(enable=bench['auto_scale_lr'])
default_hooks = dict(logger=dict(interval=10))
load_from = None
