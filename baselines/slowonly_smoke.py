# SlowOnly, RGB: a tiny version of MMAction2's SlowOnly recipe for tests (seconds on a CPU): a
# ResNet3d-18 of 8-64 channels on 8 frames 4 apart, 56-pixel crops of 64-pixel frames, centre-crop
# testing, 24 epochs. Same pipeline, optimiser and warm-up + cosine schedule otherwise; see
# slowonly_paper.py for the published recipe.
_base_ = 'mmaction::recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py'

# The method config bench runs this file with (bench/methods/mmaction_rgb.py says what each key
# means; bench reads this literal without executing the file, so keep it a literal). The
# MMAction2 fields below refer to it: this block is the only place the values live.
bench = dict(
    model=dict(backbone=dict(depth=18, base_channels=8), cls_head=dict(in_channels=64)),
    epochs=24, repeat=1, clip_len=8, frame_interval=4, num_clips=1, val_clips=1, test_clips=1,
    test_crop='CenterCrop', short_side=64, crop_size=56, render_size=64,
    batch_size=8, test_batch_size=8, num_workers=0,
    # The recipe's lr 0.2 is for batch 128 (8 GPUs x 16). On synthetic mini-xsub (90 training
    # clips) lr 0.1 for 24 epochs reached 30% top-1, lr 0.05 for 12 epochs stayed at chance.
    lr=0.1,
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
        elif step['type'] == 'CenterCrop':
            step['crop_size'] = bench['crop_size']
        elif step['type'] == 'ThreeCrop':
            step = dict(type=test_crop, crop_size=bench['crop_size']) \
                if test_crop not in (None, 'ThreeCrop') else dict(step, crop_size=bench['short_side'])
        out.append(step)
    return out


train_pipeline = _sized(_base_.train_pipeline, bench['num_clips'])
val_pipeline = _sized(_base_.val_pipeline, bench['val_clips'])
test_pipeline = _sized(_base_.test_pipeline, bench['test_clips'], bench['test_crop'])

model = bench['model']


def _loader(batch_size, pipeline):
    return dict(batch_size=batch_size, num_workers=bench['num_workers'],
                persistent_workers=bench['num_workers'] > 0, dataset=dict(pipeline=pipeline))


train_dataloader = _loader(bench['batch_size'], train_pipeline)
val_dataloader = _loader(bench['batch_size'], val_pipeline)
test_dataloader = _loader(bench['test_batch_size'], test_pipeline)

train_cfg = dict(max_epochs=bench['epochs'], val_interval=bench['val_interval'])


def _schedule(epochs):
    # the recipe's linear warm-up (34 of its 256 epochs), then cosine, scaled to `epochs`
    warmup = round(_base_.param_scheduler[0]['end'] * epochs / _base_.train_cfg['max_epochs'])
    return [dict(_base_.param_scheduler[0], end=warmup),
            dict(_base_.param_scheduler[1], begin=warmup, end=epochs, T_max=epochs - warmup)]


param_scheduler = _schedule(bench['epochs'])
optim_wrapper = dict(optimizer=dict(lr=bench['lr'], momentum=bench['momentum'],
                                    weight_decay=bench['weight_decay'],
                                    nesterov=bench['nesterov']))
auto_scale_lr = dict(enable=bench['auto_scale_lr'])
default_hooks = dict(logger=dict(interval=10))
load_from = None
