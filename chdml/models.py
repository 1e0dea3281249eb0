"""Reference models of the course, built with the Keras 3 functional API.

Every builder returns an uncompiled :class:`keras.Model` whose layers have fixed,
readable names (``block1_conv1``, ``enc2_bn1``, ``dec1_concat``...), so that the
autograder can compare a student's model layer by layer and two calls with the same
arguments build the same architecture. Images are channels-last:
``(batch, height, width, channels)``.

| builder | workshop | what it is |
|---|---|---|
| :func:`linear_unit` | 1 | one Dense unit, no activation (linear regression) |
| :func:`logistic_unit` | 2 | one Dense unit with a sigmoid (logistic regression) |
| :func:`dense_classifier` | 1 | flatten -> hidden Dense -> softmax, 28x28 inputs, 10 classes |
| :func:`small_cnn_classifier` | 1 | two convolution + max-pooling stages -> softmax |
| :func:`workshop_classifier` | 2, 3 | n blocks of two 3x3 convolutions + max-pooling, dense head; dropout, L2 and augmentation switches |
| :func:`unet` | 4 | U-Net of any depth, batch norm, dropout, any number of classes |
| :func:`ensemble_mean` | - | several trained models of one task averaged into one model |

Builders import Keras when called, so ``import chdml.models`` is cheap.
"""
from __future__ import annotations

from typing import Sequence

OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", None)


def _keras():
    import keras

    return keras


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return value


def _image_shape(input_shape: Sequence) -> tuple:
    shape = tuple(input_shape)
    if len(shape) == 2:
        shape = shape + (1,)
    if len(shape) != 3:
        raise ValueError("input_shape must be (height, width) or (height, width, channels), "
                         f"got {input_shape!r}")
    return shape


def linear_unit(n_inputs: int = 1, name: str = "linear_unit"):
    """One Dense unit without activation: ``y = w . x + b`` (workshop 1).

    Input ``(batch, n_inputs)``, output ``(batch, 1)``; ``n_inputs + 1`` parameters.

    Example:
        >>> model = linear_unit()
        >>> model.count_params()
        2
    """
    keras = _keras()
    _check_positive_int("n_inputs", n_inputs)
    inputs = keras.Input(shape=(n_inputs,), name="x")
    outputs = keras.layers.Dense(1, name="linear")(inputs)
    return keras.Model(inputs, outputs, name=name)


def logistic_unit(n_inputs: int = 1, name: str = "logistic_unit"):
    """One Dense unit with a sigmoid: ``p = sigmoid(w . x + b)`` (workshop 2).

    Input ``(batch, n_inputs)``, output ``(batch, 1)``, probabilities of class 1.
    The decision boundary (``p = 0.5``) for one input lies at ``x = -b / w``.
    """
    keras = _keras()
    _check_positive_int("n_inputs", n_inputs)
    inputs = keras.Input(shape=(n_inputs,), name="x")
    outputs = keras.layers.Dense(1, activation="sigmoid", name="logistic")(inputs)
    return keras.Model(inputs, outputs, name=name)


def dense_classifier(input_shape=(28, 28, 1), n_classes: int = 10, hidden_units: int = 128,
                     name: str = "dense_classifier"):
    """Workshop 1's fully connected classifier: flatten -> ReLU layer -> softmax.

    Input ``(batch, 28, 28, 1)`` by default, output ``(batch, n_classes)`` class
    probabilities. With the defaults it has 28*28*128 + 128 + 128*10 + 10 = 101,770
    parameters.
    """
    keras = _keras()
    _check_positive_int("n_classes", n_classes)
    _check_positive_int("hidden_units", hidden_units)
    inputs = keras.Input(shape=_image_shape(input_shape), name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def small_cnn_classifier(input_shape=(28, 28, 1), n_classes: int = 10,
                         filters: Sequence[int] = (16, 32), name: str = "small_cnn_classifier"):
    """Workshop 1's convolutional classifier.

    For each entry of ``filters``: a 3x3 ReLU convolution (``valid`` padding, as in the
    NumPy exercise) and 2x2 max-pooling; then flatten and a softmax layer. Input
    ``(batch, 28, 28, 1)`` by default, output ``(batch, n_classes)``. With the defaults
    it has 160 + 4,640 + 800*10 + 10 = 12,810 parameters, eight times fewer than
    :func:`dense_classifier`.
    """
    keras = _keras()
    _check_positive_int("n_classes", n_classes)
    inputs = keras.Input(shape=_image_shape(input_shape), name="image")
    x = inputs
    for i, n_filters in enumerate(filters, start=1):
        _check_positive_int("filters", n_filters)
        x = keras.layers.Conv2D(n_filters, 3, activation="relu", name=f"conv{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def augmentation_layers(seed: int = 0, flip: bool = True, rotation: float = 0.05,
                        zoom: float = 0.1) -> list:
    """Keras preprocessing layers for image-level augmentation inside a model.

    They transform the image only while training (``model.fit``) and pass it through
    unchanged in ``predict``/``evaluate``; they have no weights. ``rotation`` is a
    fraction of a full turn (0.05 = +-18 degrees), ``zoom`` a fraction of the size.
    Layer names: ``augment_flip``, ``augment_rotation``, ``augment_zoom``.
    """
    keras = _keras()
    layers = []
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal_and_vertical", seed=seed,
                                              name="augment_flip"))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 1,
                                                  name="augment_rotation"))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed + 2,
                                              name="augment_zoom"))
    return layers


def workshop_classifier(input_shape=(64, 64, 1), n_blocks: int = 3, base_filters: int = 16,
                        dense_units: int = 64, n_classes: int = 2, dropout: float = 0.0,
                        l2: float = 0.0, augment: bool = False, seed: int = 0,
                        name: str = "workshop_classifier"):
    """The workshop's convolutional classifier (workshops 2 and 3).

    ``n_blocks`` blocks, each two 3x3 ReLU convolutions (``same`` padding) and 2x2
    max-pooling; block ``b`` (from 1) has ``base_filters * 2**(b-1)`` filters. Then
    flatten, a ReLU Dense layer of ``dense_units`` and the output layer: one sigmoid
    unit when ``n_classes == 2`` (probability of class 1), else ``n_classes`` softmax
    units.

    Switches (workshop 3), each adding named layers and nothing else:

    - ``dropout > 0``: ``Dropout`` layers after flatten (``dropout_flatten``) and after
      the dense layer (``dropout_dense``); dropout has no weights, so the parameter
      count is the same as without it.
    - ``l2 > 0``: an L2 weight penalty of that strength on every convolution and Dense
      kernel (``model.losses`` then holds one term per layer).
    - ``augment``: random flips, small rotations and zoom as the first layers
      (:func:`augmentation_layers`), active only in training; no weights either.

    Input ``(batch, height, width, channels)``, height and width divisible by
    ``2**n_blocks``; output ``(batch, 1)`` or ``(batch, n_classes)``.
    """
    keras = _keras()
    _check_positive_int("n_blocks", n_blocks)
    _check_positive_int("base_filters", base_filters)
    _check_positive_int("dense_units", dense_units)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be 2 or more, got {n_classes!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2!r}")
    shape = _image_shape(input_shape)
    for size in shape[:2]:
        if size is not None and size % 2 ** n_blocks:
            raise ValueError(f"image size {shape[:2]} must be divisible by 2**n_blocks = "
                             f"{2 ** n_blocks}")
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None

    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    if augment:
        for layer in augmentation_layers(seed=seed):
            x = layer(x)
    for block in range(1, n_blocks + 1):
        n_filters = base_filters * 2 ** (block - 1)
        for conv in (1, 2):
            x = keras.layers.Conv2D(n_filters, 3, padding="same", activation="relu",
                                    kernel_regularizer=regularizer,
                                    name=f"block{block}_conv{conv}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seed, name="dropout_flatten")(x)
    x = keras.layers.Dense(dense_units, activation="relu", kernel_regularizer=regularizer,
                           name="dense")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seed + 1, name="dropout_dense")(x)
    if n_classes == 2:
        outputs = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizer,
                                     name="output", dtype="float32")(x)
    else:
        outputs = keras.layers.Dense(n_classes, activation="softmax",
                                     kernel_regularizer=regularizer, name="output",
                                     dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def _conv_unit(keras, x, n_filters: int, prefix: str, index: int, batch_norm: bool):
    """3x3 convolution [+ batch norm] + ReLU, named ``{prefix}_conv{i}`` etc."""
    x = keras.layers.Conv2D(n_filters, 3, padding="same", use_bias=not batch_norm,
                            kernel_initializer="he_normal", name=f"{prefix}_conv{index}")(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"{prefix}_bn{index}")(x)
    return keras.layers.Activation("relu", name=f"{prefix}_relu{index}")(x)


def unet(input_shape=(128, 128, 1), n_classes: int = 2, depth: int = 4, base_filters: int = 16,
         batch_norm: bool = True, dropout: float = 0.0, activation: str | None = "softmax",
         name: str = "unet"):
    """A 2-D U-Net (Ronneberger et al. 2015) for slice-wise segmentation (workshop 4).

    Encoder level ``d`` (1..``depth``): two 3x3 convolutions [+ batch norm] + ReLU with
    ``base_filters * 2**(d-1)`` filters (``enc{d}_conv1``, ``enc{d}_conv2``), then 2x2
    max-pooling (``enc{d}_pool``). Bottleneck: two convolutions with
    ``base_filters * 2**depth`` filters (``bottleneck_conv1/2``) and, when
    ``dropout > 0``, a ``bottleneck_dropout`` layer. Decoder level ``d`` (``depth``..1):
    a 2x2 transposed convolution (``dec{d}_up``), concatenation with the encoder output
    of the same level (``dec{d}_concat``: ``depth`` skip connections in all) and two
    convolutions. Output: a 1x1 convolution ``output`` with ``n_classes`` channels.

    Args:
        input_shape: ``(height, width, channels)``; height and width must be divisible
            by ``2**depth`` (or ``None`` for any size that is).
        n_classes: output channels. With ``activation="softmax"`` count the background
            too (LV + MYO + RV + background = 4); with ``"sigmoid"`` each channel is an
            independent probability map (1 for a binary mask); ``None`` gives logits.
        depth: number of poolings (resolution levels below the input).
        batch_norm: batch normalisation after every convolution (then without bias),
            momentum 0.9: its running statistics follow the weights within ~10 steps,
            so validation scores are meaningful early in a short training.
        dropout: dropout rate at the bottleneck (0 = no dropout layer).

    Output ``(batch, height, width, n_classes)``, float32 even under mixed precision.
    """
    keras = _keras()
    _check_positive_int("n_classes", n_classes)
    _check_positive_int("depth", depth)
    _check_positive_int("base_filters", base_filters)
    if activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"activation must be one of {OUTPUT_ACTIVATIONS}, got {activation!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}")
    shape = _image_shape(input_shape)
    for size in shape[:2]:
        if size is not None and size % 2 ** depth:
            raise ValueError(f"image size {shape[:2]} must be divisible by 2**depth = "
                             f"{2 ** depth}; crop or pad the images")

    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    skips = []
    for level in range(1, depth + 1):
        n_filters = base_filters * 2 ** (level - 1)
        for i in (1, 2):
            x = _conv_unit(keras, x, n_filters, f"enc{level}", i, batch_norm)
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    for i in (1, 2):
        x = _conv_unit(keras, x, base_filters * 2 ** depth, "bottleneck", i, batch_norm)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for level in range(depth, 0, -1):
        n_filters = base_filters * 2 ** (level - 1)
        x = keras.layers.Conv2DTranspose(n_filters, 2, strides=2, name=f"dec{level}_up")(x)
        x = keras.layers.Concatenate(name=f"dec{level}_concat")([x, skips[level - 1]])
        for i in (1, 2):
            x = _conv_unit(keras, x, n_filters, f"dec{level}", i, batch_norm)
    outputs = keras.layers.Conv2D(n_classes, 1, activation=activation, name="output",
                                  dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def ensemble_mean(members: Sequence, name: str = "ensemble"):
    """One model whose output is the mean of the ``members``' outputs.

    ``members``: trained Keras models with the same input and output layout (e.g. U-Nets
    trained with different seeds); each must have its own name (``unet_1``, ``unet_2``...)
    so that the saved file keeps them apart. Averaging class probabilities of
    independently trained networks evens out the mistakes any one of them makes (a stray
    blob outside the heart, a missed basal slice). One member is returned as it is.

    Input ``(batch, height, width, channels)`` as the members'; output as the members'.
    """
    keras = _keras()
    members = list(members)
    if not members:
        raise ValueError("ensemble_mean needs at least one model")
    if len(members) == 1:
        return members[0]
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise ValueError(f"the members need distinct names, got {names}")
    inputs = keras.Input(shape=members[0].input_shape[1:], name="image")
    outputs = keras.layers.Average(name="mean", dtype="float32")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)


def count_skip_connections(model) -> int:
    """Number of ``Concatenate`` layers in ``model`` (a U-Net has one per level)."""
    keras = _keras()
    return sum(isinstance(layer, keras.layers.Concatenate) for layer in model.layers)
