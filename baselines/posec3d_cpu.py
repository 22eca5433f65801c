# PoseC3D, joint heatmaps: the cpu profile, a narrower, shorter version of the published recipe
# (posec3d_paper.py). Same pipeline and optimiser; differs only in the values of `bench` below:
# SlowOnly with 2 blocks per stage and 16 base channels instead of (4, 6, 3) and 32.
_base_ = 'posec3d_paper.py'

# The method config bench runs this file with: posec3d_paper.py's block with these values on top
# (bench reads it without executing the file, so keep it a literal). The MMAction2 fields below
# refer to it: this block is the only place the values live.
bench = dict(
    _base_.bench,
    model=dict(backbone=dict(base_channels=16, stage_blocks=[2, 2, 2]),
               cls_head=dict(in_channels=256)),
    epochs=16, repeat=1, clip_len=32, test_clips=2,
    batch_size=16, test_batch_size=16, num_workers=0,
    # lr 0.2 is for batch 128; at batch 16 on a CPU the GCN profiles' lr serves.
    lr=0.05, auto_scale_lr=False)


def _clips(pipeline, **sampling):
    return [dict(t, **sampling) if t['type'] == 'UniformSampleFrames' else t for t in pipeline]


train_pipeline = _clips(_base_.train_pipeline, clip_len=bench['clip_len'])
val_pipeline = _clips(_base_.val_pipeline, clip_len=bench['clip_len'],
                      num_clips=bench['val_clips'])
test_pipeline = _clips(_base_.test_pipeline, clip_len=bench['clip_len'],
                       num_clips=bench['test_clips'])

model = bench['model']


def _loader(batch_size, dataset):
    return dict(batch_size=batch_size, num_workers=bench['num_workers'],
                persistent_workers=bench['num_workers'] > 0, dataset=dataset)


train_dataloader = _loader(bench['batch_size'],
                           dict(times=bench['repeat'], dataset=dict(pipeline=train_pipeline)))
val_dataloader = _loader(bench['batch_size'], dict(pipeline=val_pipeline))
test_dataloader = _loader(bench['test_batch_size'], dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=bench['epochs'], val_interval=bench['val_interval'])
param_scheduler = [dict(_base_.param_scheduler[0], T_max=bench['epochs'])]
optim_wrapper = dict(optimizer=dict(lr=bench['lr'], momentum=bench['momentum'],
                                    weight_decay=bench['weight_decay']))
auto_scale_lr = dict(enable=bench['auto_scale_lr'])
default_hooks = dict(logger=dict(interval=10))
