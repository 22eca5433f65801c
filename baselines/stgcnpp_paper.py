# ST-GCN++ (PYSKL), joint stream, NTU RGB+D 3D skeletons: MMAction2 1.2.0's published recipe,
# unchanged (see aagcn_paper.py for what bench fills in per run).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

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

auto_scale_lr = dict(enable=bench['auto_scale_lr'], base_batch_size=128)
load_from = None
