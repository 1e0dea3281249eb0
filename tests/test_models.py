"""Tests for chdml.models: shapes, parameter counts, layer names, switches, round trips."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from chdml import models  # noqa: E402


def _layer_types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_does_the_linear_unit_have_one_weight_and_one_bias():
    model = models.linear_unit()
    assert model.count_params() == 2
    assert model.output_shape == (None, 1)
    assert model.get_layer("linear").activation.__name__ == "linear"


def test_can_the_linear_unit_learn_y_equals_2x_minus_4():
    keras.utils.set_random_seed(0)
    x = np.linspace(-2, 2, 64).reshape(-1, 1).astype("float32")
    y = 2 * x - 4
    model = models.linear_unit()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=60, batch_size=16, verbose=0)
    weight, bias = model.get_layer("linear").get_weights()
    assert abs(float(weight[0, 0]) - 2) < 0.1 and abs(float(bias[0]) + 4) < 0.1


def test_does_the_logistic_unit_output_probabilities():
    model = models.logistic_unit(n_inputs=3)
    assert model.count_params() == 4
    p = model.predict(np.random.default_rng(0).normal(size=(5, 3)) * 100, verbose=0)
    assert np.all((p >= 0) & (p <= 1))


def test_do_the_workshop1_classifiers_have_the_documented_sizes():
    dense = models.dense_classifier()
    cnn = models.small_cnn_classifier()
    assert dense.count_params() == 28 * 28 * 128 + 128 + 128 * 10 + 10 == 101_770
    assert cnn.count_params() == 12_810
    assert dense.output_shape == cnn.output_shape == (None, 10)
    assert _layer_types(cnn) == ["InputLayer", "Conv2D", "MaxPooling2D", "Conv2D",
                                 "MaxPooling2D", "Flatten", "Dense"]


def test_does_the_workshop_classifier_follow_its_blocks():
    model = models.workshop_classifier((64, 64, 1), n_blocks=3, base_filters=8)
    names = [layer.name for layer in model.layers]
    assert names == ["image",
                     "block1_conv1", "block1_conv2", "block1_pool",
                     "block2_conv1", "block2_conv2", "block2_pool",
                     "block3_conv1", "block3_conv2", "block3_pool",
                     "flatten", "dense", "output"]
    assert [model.get_layer(f"block{b}_conv1").filters for b in (1, 2, 3)] == [8, 16, 32]
    assert model.output_shape == (None, 1)
    assert model.get_layer("output").activation.__name__ == "sigmoid"
    # conv params: 3*3*in*out + out for each, then dense 8*8*32 -> 64, then 64 -> 1
    convs = [(1, 8), (8, 8), (8, 16), (16, 16), (16, 32), (32, 32)]
    expected = sum(9 * i * o + o for i, o in convs) + (8 * 8 * 32 * 64 + 64) + 65
    assert model.count_params() == expected


def test_does_a_multiclass_workshop_classifier_end_in_softmax():
    model = models.workshop_classifier((32, 32, 1), n_blocks=2, n_classes=4)
    assert model.output_shape == (None, 4)
    assert model.get_layer("output").activation.__name__ == "softmax"


def test_does_dropout_add_layers_but_no_parameters():
    plain = models.workshop_classifier((32, 32, 1), n_blocks=2)
    dropped = models.workshop_classifier((32, 32, 1), n_blocks=2, dropout=0.5)
    assert plain.count_params() == dropped.count_params()
    assert "Dropout" not in _layer_types(plain)
    assert [layer.name for layer in dropped.layers if "dropout" in layer.name] == [
        "dropout_flatten", "dropout_dense"]


def test_does_l2_put_a_penalty_on_every_kernel():
    plain = models.workshop_classifier((32, 32, 1), n_blocks=2)
    model = models.workshop_classifier((32, 32, 1), n_blocks=2, l2=1e-3)
    assert plain.count_params() == model.count_params()
    with_penalty = [layer.name for layer in model.layers
                    if getattr(layer, "kernel_regularizer", None) is not None]
    assert with_penalty == ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
                            "dense", "output"]
    assert model.get_layer("dense").kernel_regularizer.get_config()["l2"] == pytest.approx(1e-3)


def test_is_augmentation_active_in_training_only():
    model = models.workshop_classifier((32, 32, 1), n_blocks=2, augment=True)
    assert [layer.name for layer in model.layers[1:4]] == [
        "augment_flip", "augment_rotation", "augment_zoom"]
    assert model.count_params() == models.workshop_classifier(
        (32, 32, 1), n_blocks=2).count_params()
    augment = keras.Sequential(model.layers[1:4])
    image = np.random.default_rng(0).random((1, 32, 32, 1)).astype("float32")
    assert np.allclose(augment(image, training=False), image)
    assert not np.allclose(augment(image, training=True), image)


def test_are_bad_classifier_settings_refused():
    with pytest.raises(ValueError, match="divisible"):
        models.workshop_classifier((30, 30, 1), n_blocks=2)
    with pytest.raises(ValueError, match="dropout"):
        models.workshop_classifier((32, 32, 1), dropout=1.0)
    with pytest.raises(ValueError, match="n_classes"):
        models.workshop_classifier((32, 32, 1), n_classes=1)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_does_the_unet_keep_the_image_size_and_have_one_skip_per_level(depth):
    model = models.unet((64, 64, 1), n_classes=4, depth=depth, base_filters=4)
    assert model.output_shape == (None, 64, 64, 4)
    assert models.count_skip_connections(model) == depth
    assert model.get_layer(f"enc{depth}_conv1").filters == 4 * 2 ** (depth - 1)
    assert model.get_layer("bottleneck_conv1").filters == 4 * 2 ** depth


def test_is_the_unet_parameter_count_the_hand_computed_one():
    model = models.unet((32, 32, 1), n_classes=2, depth=1, base_filters=4, batch_norm=False)
    # enc1: 1->4, 4->4; bottleneck 4->8, 8->8; up 8->4 (2x2); dec1: 8->4, 4->4; out 4->2
    expected = ((9 * 1 * 4 + 4) + (9 * 4 * 4 + 4) + (9 * 4 * 8 + 8) + (9 * 8 * 8 + 8)
                + (4 * 8 * 4 + 4) + (9 * 8 * 4 + 4) + (9 * 4 * 4 + 4) + (4 * 2 + 2))
    assert model.count_params() == expected


def test_does_batch_norm_replace_the_convolution_bias():
    with_bn = models.unet((32, 32, 1), depth=2, base_filters=4, batch_norm=True)
    assert with_bn.get_layer("enc1_conv1").use_bias is False
    assert "enc1_bn1" in [layer.name for layer in with_bn.layers]
    without = models.unet((32, 32, 1), depth=2, base_filters=4, batch_norm=False)
    assert "BatchNormalization" not in _layer_types(without)


def test_do_sigmoid_and_softmax_outputs_behave():
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype("float32")
    softmax = models.unet((32, 32, 1), n_classes=3, depth=2, base_filters=4)
    assert np.allclose(softmax.predict(x, verbose=0).sum(-1), 1.0, atol=1e-5)
    sigmoid = models.unet((32, 32, 1), n_classes=1, depth=2, base_filters=4,
                          activation="sigmoid")
    p = sigmoid.predict(x, verbose=0)
    assert p.shape == (2, 32, 32, 1) and np.all((p > 0) & (p < 1))


def test_does_unet_dropout_appear_only_when_asked():
    model = models.unet((32, 32, 1), depth=2, base_filters=4, dropout=0.3)
    assert model.get_layer("bottleneck_dropout").rate == 0.3
    assert model.count_params() == models.unet((32, 32, 1), depth=2,
                                               base_filters=4).count_params()


def test_are_bad_unet_settings_refused():
    with pytest.raises(ValueError, match="divisible"):
        models.unet((100, 100, 1), depth=3)
    with pytest.raises(ValueError, match="activation"):
        models.unet((32, 32, 1), depth=2, activation="relu")
    with pytest.raises(ValueError, match="depth"):
        models.unet((32, 32, 1), depth=0)


def test_do_two_builds_give_the_same_layer_names():
    a = models.unet((32, 32, 1), depth=2, base_filters=4)
    b = models.unet((32, 32, 1), depth=2, base_filters=4)
    assert [layer.name for layer in a.layers] == [layer.name for layer in b.layers]


@pytest.mark.parametrize("build", [
    lambda: models.linear_unit(),
    lambda: models.logistic_unit(2),
    lambda: models.dense_classifier(hidden_units=8),
    lambda: models.small_cnn_classifier(),
    lambda: models.workshop_classifier((32, 32, 1), n_blocks=2, dropout=0.2, l2=1e-4,
                                       augment=True),
    lambda: models.unet((32, 32, 1), n_classes=3, depth=2, base_filters=4, dropout=0.1),
])
def test_does_every_model_survive_a_keras_file_round_trip(build, tmp_path):
    model = build()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.count_params() == model.count_params()
    shape = (2,) + tuple(model.input_shape[1:])
    x = np.random.default_rng(0).random(shape).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_does_an_ensemble_average_its_members_and_survive_a_file_round_trip(tmp_path):
    members = []
    for k in (1, 2):
        keras.utils.set_random_seed(k)
        members.append(models.unet((None, None, 1), n_classes=3, depth=2, base_filters=4,
                                   name=f"unet_{k}"))
    ensemble = models.ensemble_mean(members)
    x = np.random.default_rng(0).random((2, 16, 16, 1)).astype("float32")
    one, two = (m.predict(x, verbose=0) for m in members)
    assert not np.allclose(one, two)   # two different members
    np.testing.assert_allclose(ensemble.predict(x, verbose=0), (one + two) / 2, atol=1e-6)
    ensemble.save(tmp_path / "ensemble.keras")
    loaded = keras.saving.load_model(tmp_path / "ensemble.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), (one + two) / 2, atol=1e-6)
    assert models.ensemble_mean(members[:1]) is members[0]
    with pytest.raises(ValueError, match="distinct names"):
        models.ensemble_mean([members[0], members[0]])
    with pytest.raises(ValueError, match="at least one"):
        models.ensemble_mean([])
