# ST-GCN, joint stream, NTU-layout 3D skeletons: a tiny version of MMAction2's recipe for tests
# (seconds on a CPU). Same pipeline and optimiser; differs only in the values of `bench` below.
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

# The method config bench runs this file with (bench/methods/mmaction_gcn.py says what each key
# means; bench reads this literal without executing the file, so keep it a literal). The
# MMAction2 fields below refer to it: this block is the only place the values live.
bench = dict(
    stream='joint',
    # 4 stages of 16/32 channels instead of 10 stages of 64/128/256.
    model=dict(backbone=dict(base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3]),
               cls_head=dict(in_channels=32)),
    epochs=10, repeat=1, clip_len=32, val_clips=1, test_clips=1,
    batch_size=8, test_batch_size=8, num_workers=0,
    # The recipe's lr 0.1 is for batch 128 (8 GPUs x 16); at batch 8 it collapses to one class.
    lr=0.025, momentum=0.9, weight_decay=5e-4, nesterov=True, auto_scale_lr=False,
    # bench's own: validate every epoch and test the best val epoch; one process, not bitwise
    # deterministic
    val_interval=1, checkpoint='best', deterministic=False, nproc=1)


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
                                    weight_decay=bench['weight_decay'],
                                    nesterov=bench['nesterov']))
auto_scale_lr = dict(enable=bench['auto_scale_lr'])
default_hooks = dict(logger=dict(interval=10))
load_from = None
