# MS-G3D, joint stream: the smoke profile. The MS-G3D recipe (msg3d_paper.py) differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_smoke.py (the same shortened
# schedule, clip length, batch and lr) with the MS-G3D backbone, narrower: 8/16/32 channels, 4 GCN
# and 2 G3D scales instead of 96/192/384, 13 and 6.
_base_ = 'stgcn_smoke.py'

# The values other than the model's come from stgcn_smoke.py's `bench`. A value changed here
# must also be set in the MMAction2 field that it feeds, as stgcn_smoke.py does (the tests
# check that the two agree).
bench = dict(_base_.bench, model=dict(
    backbone=dict(base_channels=8, num_gcn_scales=4, num_g3d_scales=2),
    cls_head=dict(in_channels=32)))

model = dict(
    backbone=dict(
        _delete_=True, type='MSG3D', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        **bench['model']['backbone']),
    cls_head=bench['model']['cls_head'])
