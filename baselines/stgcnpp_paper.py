# ST-GCN++ (PYSKL), joint stream, NTU RGB+D 3D skeletons: MMAction2 1.2.0's published recipe,
# unchanged (see aagcn_paper.py for what bench fills in per run).
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

auto_scale_lr = dict(enable=True, base_batch_size=128)
load_from = None
