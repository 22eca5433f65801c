# ST-GCN, joint stream, NTU-layout 3D skeletons: a tiny version of MMAction2's recipe for tests
# (seconds on a CPU). Same pipeline and optimiser; differs only in what is set below.
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

max_epochs = 10
clip_len = 32


def _clips(pipeline, **sampling):
    return [dict(t, **sampling) if t['type'] == 'UniformSampleFrames' else t for t in pipeline]


train_pipeline = _clips(_base_.train_pipeline, clip_len=clip_len)
val_pipeline = _clips(_base_.val_pipeline, clip_len=clip_len)
test_pipeline = _clips(_base_.test_pipeline, clip_len=clip_len, num_clips=1)

# 4 stages of 16/32 channels instead of 10 stages of 64/128/256.
model = dict(
    backbone=dict(base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3]),
    cls_head=dict(in_channels=32))

train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(times=1, dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(_base_.param_scheduler[0], T_max=max_epochs)]
default_hooks = dict(logger=dict(interval=10))
load_from = None
# The recipe's lr 0.1 is for batch 128 (8 GPUs x 16); at batch 8 it collapses to one class.
optim_wrapper = dict(optimizer=dict(lr=0.025))
