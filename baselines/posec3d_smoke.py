# PoseC3D, joint heatmaps: the smoke profile, posec3d_cpu.py made smaller for tests (seconds on a
# CPU): SlowOnly with 1 block per stage and 8 base channels instead of the cpu profile's 2 and 16,
# 10 epochs of 16-frame clips at batch 8. Same pipeline and optimiser as the published recipe
# (posec3d_paper.py); differs only in the values of `bench` below.
_base_ = 'posec3d_cpu.py'

# The method config bench runs this file with: posec3d_cpu.py's block with these values on top
# (bench reads it without executing the file, so keep it a literal). The MMAction2 fields below
# set again only what these values feed; a value changed here must also be set in the field it
# feeds, as posec3d_cpu.py does (the tests check that the two agree).
bench = dict(
    _base_.bench,
    model=dict(backbone=dict(base_channels=8, stage_blocks=[1, 1, 1]),
               cls_head=dict(in_channels=128)),
    epochs=10, clip_len=16, test_clips=1, batch_size=8, test_batch_size=8,
    # lr 0.2 is for batch 128; at batch 8 on a CPU the GCN profiles' lr serves.
    lr=0.025)


def _clips(pipeline, **sampling):
    return [dict(t, **sampling) if t['type'] == 'UniformSampleFrames' else t for t in pipeline]


train_pipeline = _clips(_base_.train_pipeline, clip_len=bench['clip_len'])
val_pipeline = _clips(_base_.val_pipeline, clip_len=bench['clip_len'],
                      num_clips=bench['val_clips'])
test_pipeline = _clips(_base_.test_pipeline, clip_len=bench['clip_len'],
                       num_clips=bench['test_clips'])

model = bench['model']
train_dataloader = dict(batch_size=bench['batch_size'],
                        dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(batch_size=bench['batch_size'], dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=bench['test_batch_size'], dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=bench['epochs'])
param_scheduler = [dict(_base_.param_scheduler[0], T_max=bench['epochs'])]
optim_wrapper = dict(optimizer=dict(lr=bench['lr']))
