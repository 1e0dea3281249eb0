"""The loss curve of the linear regression: ``linear_history = linear_model.fit(...)``.

Judged with ``compare.decreasing("loss", min_drop=0.5)``: at least two epochs, every
loss finite, and the last epoch's loss at most half the first epoch's. (A correct fit of
y = 2x - 4 from random weights goes from about 10-30 to below 0.01.)

Typical beginner mistakes this catches:
- a learning rate so large that the loss grows or becomes NaN (diverging training);
- a single epoch (no curve to look at);
- a learning rate so small that the loss hardly moves;
- storing something else than what ``fit`` returns (e.g. the model, or ``None`` from a
  function without ``return``).
Accepted: the ``History`` object or its ``.history`` dict; with or without validation
data; any number of epochs >= 2.
"""
from chdml.grading import compare, producers
from chdml.grading.spec import Case, Exercise

EXERCISE = Exercise(
    name="loss_curve",
    title="The loss curve goes down",
    producer=producers.history("linear_history"),
    reference=lambda inputs: None,
    compare=compare.decreasing("loss", min_drop=0.5),
    cases=lambda rng: [Case("the training history linear_history", public=True, points=1)],
    hint="Keep what fit returns: linear_history = linear_model.fit(...). If the loss grows "
         "or becomes nan, lower the learning rate; if it hardly moves, raise it or train "
         "longer.",
)
