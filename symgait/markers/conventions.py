"""Built-in body-fixed marker tables: ``{label: (OpenSim body, offset, weight)}``, offsets in units
of the body's reference length (:mod:`symgait.markers.body_markers`).

Derived with :func:`symgait.markers.osim_markerset.convention_table` (per-marker median over the
subjects' scaled models) from the MarkerSets of the public scaled OpenSim models:

* ``HAMNER``: Hamner SR & Delp SL (2013), "Muscle contributions to fore-aft and vertical body
  mass center accelerations over a range of running speeds", J Biomech 46(4):780-787, as shipped
  by Fox A (2024), R Soc Open Sci 11:231909 (aaronsfox/zmp-opensim,
  ``datasets/HamnerDelp2013/data/subjectNN/model/subjectNN_adjusted_scaled.osim``, 8 subjects):
  thigh/shank clusters (RTH1-3, RTB1-3), pelvis (RASI, RPSI), foot (RCAL, RTOE, RMT5), trunk.
* ``ISB``: Schreiber C & Moissenet F (2019), "A multimodal dataset of human gait at different
  walking speeds established on injury-free adult participants", Sci Data 6:111 (same
  repository, ``datasets/SchreiberMoissenet2019/data/<id>/scaling/*_scaledModelAdjusted.osim``,
  14 subjects): ISB anatomical landmarks (R_IAS, R_IPS, R_FLE, R_FME, R_FAL, R_TAM, R_FCC,
  R_FM1/2/5, CV7, SJN, SXS ...).  The models' virtual floor projections (``*_ground``) are left
  out.

Arm markers (``HAMNER_ARMS``, ``ISB_ARMS``) are tabled separately, on the arm bodies of a model
with arms (the built-in ``fullbody``: ``humerus_*`` and ``ulna_*``, its forearm and hand lumped):
the same medians with ``fullbody``'s bodies, markers on OpenSim's ``radius_*`` and ``hand_*``
carried by the ulna at zero pronation and wrist angles, offsets in units of the humerus's length
(shoulder → elbow) on every arm body.  Models without arms (``gait3d``) leave them out.
"""

HAMNER = {  # 8 subjects
    'RACR': ('torso', (-0.0142, 0.4796, 0.1636), 0.5),
    'LACR': ('torso', (-0.0143, 0.4979, -0.1633), 0.5),
    'C7': ('torso', (-0.0617, 0.4926, -0.0068), 0.5),
    'CLAV': ('torso', (0.0801, 0.4292, 0.0272), 0.5),
    'RASH': ('torso', (0.0516, 0.4347, 0.1689), 0.5),
    'RPSH': ('torso', (-0.0923, 0.4267, 0.1745), 0.5),
    'LASH': ('torso', (0.0577, 0.4475, -0.1688), 0.5),
    'LPSH': ('torso', (-0.0841, 0.4336, -0.1852), 0.5),
    'RASI': ('pelvis', (0.0272, 0.0912, 0.7231), 1.0),
    'LASI': ('pelvis', (0.0449, 0.0982, -0.7136), 1.0),
    'RPSI': ('pelvis', (-0.9244, 0.2069, 0.2467), 1.0),
    'LPSI': ('pelvis', (-0.908, 0.2159, -0.268), 1.0),
    'LHJC': ('femur_l', (0.0128, 0.0003, 0.0001), 1.0),
    'RHJC': ('femur_r', (0.0178, -0.0149, 0.0077), 1.0),
    'RTH1': ('femur_r', (0.0325, -0.2197, 0.2115), 1.0),
    'RTH2': ('femur_r', (0.1422, -0.481, 0.1763), 1.0),
    'RTH3': ('femur_r', (-0.0224, -0.7601, 0.1533), 1.0),
    'RLFC': ('femur_r', (0.0229, -1.0223, 0.1484), 1.0),
    'RMFC': ('femur_r', (-0.0024, -1.0308, -0.127), 1.0),
    'RTB1': ('tibia_r', (0.0849, -0.3087, 0.0286), 1.0),
    'RTB2': ('tibia_r', (0.0044, -0.4354, 0.159), 1.0),
    'RTB3': ('tibia_r', (0.0648, -0.6998, 0.0183), 1.0),
    'RLMAL': ('tibia_r', (-0.0342, -0.9301, 0.1125), 1.0),
    'RMMAL': ('tibia_r', (0.01, -0.8942, -0.0824), 1.0),
    'RCAL': ('calcn_r', (-0.1789, 0.2762, -0.0459), 1.0),
    'RTOE': ('calcn_r', (1.0236, 0.1924, -0.0999), 1.0),
    'RMT5': ('calcn_r', (0.7698, 0.0679, 0.3403), 1.0),
    'LTH1': ('femur_l', (0.0341, -0.256, -0.2147), 1.0),
    'LTH2': ('femur_l', (0.1504, -0.5204, -0.1696), 1.0),
    'LTH3': ('femur_l', (-0.0202, -0.7652, -0.1641), 1.0),
    'LLFC': ('femur_l', (0.0135, -1.0094, -0.1448), 1.0),
    'LMFC': ('femur_l', (-0.0024, -1.0349, 0.1211), 1.0),
    'LTB1': ('tibia_l', (0.0895, -0.2808, -0.0319), 1.0),
    'LTB2': ('tibia_l', (-0.0319, -0.4724, -0.1573), 1.0),
    'LTB3': ('tibia_l', (0.062, -0.6884, -0.025), 1.0),
    'LLMAL': ('tibia_l', (-0.0244, -0.9201, -0.1048), 1.0),
    'LMMAL': ('tibia_l', (0.0144, -0.8949, 0.084), 1.0),
    'LCAL': ('calcn_l', (-0.1472, 0.2884, 0.0654), 1.0),
    'LTOE': ('calcn_l', (1.0399, 0.2111, 0.0558), 1.0),
    'LMT5': ('calcn_l', (0.7783, 0.0652, -0.3885), 1.0),
}
ISB = {  # 14 subjects
    'CV7': ('torso', (-0.1236, 0.5182, 0.0032), 0.5),
    'SJN': ('torso', (0.0406, 0.4558, 0.001), 0.5),
    'R_SAE': ('torso', (-0.0619, 0.464, 0.2154), 0.5),
    'L_SAE': ('torso', (-0.0669, 0.473, -0.2158), 0.5),
    'R_SAA': ('torso', (-0.1202, 0.4521, 0.1922), 0.5),
    'L_SAA': ('torso', (-0.1177, 0.4465, -0.1926), 0.5),
    'R_IAS': ('pelvis', (0.1478, -0.0604, 0.7484), 1.0),
    'L_IAS': ('pelvis', (0.0964, -0.0649, -0.7845), 1.0),
    'R_IPS': ('pelvis', (-1.0816, 0.1803, 0.3432), 1.0),
    'L_IPS': ('pelvis', (-1.1086, 0.2009, -0.2909), 1.0),
    'R_FLE': ('femur_r', (-0.0134, -0.9649, 0.1561), 1.0),
    'R_FME': ('femur_r', (-0.0267, -0.9923, -0.1524), 1.0),
    'R_FAL': ('tibia_r', (-0.0507, -0.9436, 0.1159), 1.0),
    'R_TAM': ('tibia_r', (0.0033, -0.906, -0.1014), 1.0),
    'R_FCC': ('calcn_r', (-0.012, 0.103, -0.0516), 1.0),
    'R_FM1': ('calcn_r', (1.1054, 0.1503, -0.2523), 1.0),
    'R_FM5': ('calcn_r', (0.8915, 0.0893, 0.3981), 1.0),
    'L_FLE': ('femur_l', (-0.0316, -0.9446, -0.1608), 1.0),
    'L_FME': ('femur_l', (-0.0284, -0.972, 0.1341), 1.0),
    'L_FAL': ('tibia_l', (-0.052, -0.9284, -0.1099), 1.0),
    'L_TAM': ('tibia_l', (0.0117, -0.8925, 0.1024), 1.0),
    'L_FCC': ('calcn_l', (-0.0025, 0.1241, 0.0663), 1.0),
    'L_FM1': ('calcn_l', (1.0977, 0.1642, 0.2545), 1.0),
    'L_FM5': ('calcn_l', (0.9138, 0.101, -0.3836), 1.0),
    'SXS': ('torso', (0.1516, 0.2459, -0.002), 0.5),
    'TV10': ('torso', (-0.1257, 0.2136, -0.0007), 0.5),
    'R_FAX': ('tibia_r', (-0.0628, -0.1026, 0.1776), 1.0),
    'L_FAX': ('tibia_l', (-0.0772, -0.0876, -0.1958), 1.0),
    'L_TTC': ('tibia_l', (0.0787, -0.1035, -0.0477), 1.0),
    'R_TTC': ('tibia_r', (0.0911, -0.1177, 0.0395), 1.0),
    'R_FM2': ('calcn_r', (1.1417, 0.2112, 0.0763), 1.0),
    'L_FM2': ('calcn_l', (1.1555, 0.2206, -0.0824), 1.0),
    'R_FTC': ('femur_r', (-0.0088, -0.0498, 0.2506), 1.0),
    'L_FTC': ('femur_l', (-0.0118, -0.0312, -0.2424), 1.0),
}

HAMNER_ARMS = {  # 8 subjects: upper-arm cluster, humeral epicondyles, forearm markers
    'RUA1': ('humerus_r', (-0.0334, -0.2735, 0.1467), 1.0),
    'RUA2': ('humerus_r', (-0.1243, -0.4321, 0.0278), 1.0),
    'RUA3': ('humerus_r', (-0.0016, -0.633, 0.1064), 1.0),
    'RLEL': ('humerus_r', (0.0622, -0.9568, 0.1117), 1.0),
    'RMEL': ('humerus_r', (-0.0033, -0.9507, -0.1326), 1.0),
    'RFAsuperior': ('ulna_r', (0.0607, -0.3155, 0.1809), 1.0),
    'RFAradius': ('ulna_r', (-0.0267, -0.8414, 0.2562), 1.0),
    'RFAulna': ('ulna_r', (-0.1142, -0.8291, 0.0405), 1.0),
    'LUA1': ('humerus_l', (-0.0674, -0.2492, -0.1679), 1.0),
    'LUA2': ('humerus_l', (-0.1635, -0.455, -0.0043), 1.0),
    'LUA3': ('humerus_l', (0.0069, -0.6538, -0.1133), 1.0),
    'LLEL': ('humerus_l', (0.0596, -0.9465, -0.1174), 1.0),
    'LMEL': ('humerus_l', (-0.0113, -0.9521, 0.1369), 1.0),
    'LFAsuperior': ('ulna_l', (0.0647, -0.2884, -0.1845), 1.0),
    'LFAradius': ('ulna_l', (-0.0236, -0.8379, -0.2495), 1.0),
    'LFAulna': ('ulna_l', (-0.109, -0.8403, -0.0368), 1.0),
}
ISB_ARMS = {  # 14 subjects: humeral epicondyles (HLE, HME), radial styloid (RSP), ulnar head
    # (UHE), olecranon (UOA), 2nd and 5th metacarpal heads (HM2, HM5)
    'R_HLE': ('humerus_r', (0.0765, -1.0112, 0.0595), 1.0),
    'R_HME': ('humerus_r', (-0.0431, -1.0344, -0.1543), 1.0),
    'R_RSP': ('ulna_r', (-0.0017, -0.7178, 0.2194), 1.0),
    'R_UHE': ('ulna_r', (-0.1165, -0.7022, 0.0285), 1.0),
    'R_UOA': ('ulna_r', (-0.0866, -0.0269, -0.0044), 1.0),
    'R_HM2': ('ulna_r', (-0.0571, -0.9843, 0.2643), 1.0),
    'R_HM5': ('ulna_r', (-0.1047, -0.941, -0.0207), 1.0),
    'L_HLE': ('humerus_l', (0.0624, -0.9987, -0.0578), 1.0),
    'L_HME': ('humerus_l', (-0.0286, -1.0073, 0.1618), 1.0),
    'L_RSP': ('ulna_l', (-0.0059, -0.731, -0.2238), 1.0),
    'L_UHE': ('ulna_l', (-0.1026, -0.6994, -0.0258), 1.0),
    'L_UOA': ('ulna_l', (-0.0715, -0.0072, 0.0082), 1.0),
    'L_HM2': ('ulna_l', (-0.0507, -0.9963, -0.2604), 1.0),
    'L_HM5': ('ulna_l', (-0.0563, -0.9468, 0.041), 1.0),
}
