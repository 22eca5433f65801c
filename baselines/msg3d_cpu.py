# MS-G3D, joint stream: the cpu profile. The MS-G3D recipe (msg3d_paper.py) differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_cpu.py (the same shortened
# schedule, clip length, batch and lr) with the MS-G3D backbone, narrower: 16/32/64 channels, 8 GCN
# and 4 G3D scales instead of 96/192/384, 13 and 6.
_base_ = 'stgcn_cpu.py'

# The values other than the model's come from stgcn_cpu.py's `bench`. A value changed here
# must also be set in the MMAction2 field that it feeds, as stgcn_cpu.py does (the tests
# check that the two agree).
bench = dict(_base_.bench, model=dict(
    backbone=dict(base_channels=16, num_gcn_scales=8, num_g3d_scales=4),
    cls_head=dict(in_channels=64, dropout=0.3)))  # dropout as stgcn_cpu.py

model = dict(
    backbone=dict(
        _delete_=True, type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        **bench['model']['backbone']),
    cls_head=bench['model']['cls_head'])
