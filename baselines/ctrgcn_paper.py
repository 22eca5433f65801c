# CTR-GCN (Chen et al. ICCV 2021), joint stream, NTU RGB+D 3D skeletons. The mmaction2 wheel does
# not ship CTR-GCN; its recipe in MMAction2's projects/ctrgcn (and PYSKL's) is the ST-GCN NTU
# recipe (16 epochs x RepeatDataset(5), u100, 10 test clips, SGD 0.1 nesterov, wd 5e-4, cosine,
# 8 GPUs x 16) with the CTR-GCN backbone (spatial graph, 10 blocks of 64/128/256 channels), so we
# inherit that recipe and swap the backbone for ours (bench/methods/gcn_models/ctrgcn.py).
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

model = dict(backbone=dict(_delete_=True, type='CTRGCN',
                           graph_cfg=dict(layout='nturgb+d', mode='spatial')))
auto_scale_lr = dict(enable=True, base_batch_size=128)
load_from = None
