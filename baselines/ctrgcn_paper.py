# CTR-GCN (Chen et al. ICCV 2021), joint stream, NTU RGB+D 3D skeletons. The mmaction2 wheel does
# not ship CTR-GCN; its recipe in MMAction2's projects/ctrgcn (and PYSKL's) is the ST-GCN NTU
# recipe (16 epochs x RepeatDataset(5), u100, 10 test clips, SGD 0.1 nesterov, wd 5e-4, cosine,
# 8 GPUs x 16) with the CTR-GCN backbone (spatial graph, 10 blocks of 64/128/256 channels), so we
# inherit that recipe and swap the backbone for ours (bench/methods/gcn_models/ctrgcn.py).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

# The method config bench runs this file with: MMAction2's recipe values, restated so that bench
# reads them without importing mmaction (model=dict(): the recipe's model as it is).
# tests/methods/test_baselines_registry.py checks they equal what this file inherits.
bench = dict(
    stream='joint', model=dict(),
    # 16 epochs x RepeatDataset(5) = 80 passes, uniform 100-frame clips, 10 test clips
    epochs=16, repeat=5, clip_len=100, val_clips=1, test_clips=10,
    batch_size=16, test_batch_size=1, num_workers=2,
    # SGD 0.1 nesterov per 128 samples, scaled linearly to the real total batch (auto_scale_lr)
    lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True, auto_scale_lr=True,
    val_interval=1, checkpoint='best', deterministic=False, nproc=1)

model = dict(backbone=dict(_delete_=True, type='CTRGCN',
                           graph_cfg=dict(layout='nturgb+d', mode='spatial')))
auto_scale_lr = dict(enable=bench['auto_scale_lr'], base_batch_size=128)
load_from = None
