# PoseC3D, joint heatmaps: the cpu profile, a narrower, shorter version of the published recipe
# (posec3d_paper.py). Same pipeline and optimiser; differs only in what is set below: SlowOnly with
# 2 blocks per stage and 16 base channels instead of (4, 6, 3) and 32.
_base_ = 'posec3d_paper.py'

max_epochs = 16
clip_len = 32


def _clips(pipeline, **sampling):
    return [dict(t, **sampling) if t['type'] == 'UniformSampleFrames' else t for t in pipeline]


train_pipeline = _clips(_base_.train_pipeline, clip_len=clip_len)
val_pipeline = _clips(_base_.val_pipeline, clip_len=clip_len)
test_pipeline = _clips(_base_.test_pipeline, clip_len=clip_len, num_clips=2)

model = dict(
    backbone=dict(base_channels=16, stage_blocks=[2, 2, 2]),
    cls_head=dict(in_channels=256))

train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(times=1, dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(_base_.param_scheduler[0], T_max=max_epochs)]
default_hooks = dict(logger=dict(interval=10))
auto_scale_lr = dict(enable=False)
# lr 0.2 is for batch 128; at batch 16 on a CPU the GCN profiles' lr serves.
optim_wrapper = dict(optimizer=dict(lr=0.05))
