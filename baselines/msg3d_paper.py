# MS-G3D (Liu et al. CVPR 2020), joint stream, NTU RGB+D 3D skeletons. Not in the mmaction2
# wheel; MMAction2's projects/msg3d (and PYSKL) train it with the ST-GCN NTU recipe (see
# ctrgcn_paper.py), the backbone being ours (bench/methods/gcn_models/msg3d.py): 96/192/384
# channels, 13 GCN scales, 6 G3D scales, G3D windows 3 and 5.
_base_ = 'mmaction::skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

model = dict(backbone=dict(_delete_=True, type='MSG3D',
                           graph_cfg=dict(layout='nturgb+d', mode='spatial')),
             cls_head=dict(in_channels=384))
auto_scale_lr = dict(enable=True, base_batch_size=128)
load_from = None
