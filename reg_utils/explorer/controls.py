"""The explorer's widgets: the controls, pictures and text areas, reading and changing them.

``Controls`` builds the widgets and reports changes through the callbacks
it is given; it knows nothing of training or drawing. Used by
``RegularizationExplorer`` (``app``), the explorer of
``notebooks/Explore_regularization.ipynb`` and of the assignment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

import ipywidgets as widgets

from ..errors import RegularizationInputError
from .settings import (
    DATASETS,
    ITERATION_CHOICES,
    KEEP_PROB_RANGE,
    LAMBDA_CHOICES,
    LEARNING_RATES,
    REGULARIZERS,
    Settings,
    _label,
)

#: The controls whose values make up ``Settings`` (each retrains when it moves).
TRAINING_CONTROLS = tuple(f.name for f in fields(Settings))


class Controls:
    """The widgets of one explorer; ``widget`` is the whole app's box.

    ``on_training_change()`` runs when a control of ``Settings`` moves (not
    while ``set`` changes several at once), ``on_view_change()`` when "show
    test points" flips, ``on_sweep_parameter()`` when the sweep toggle
    moves, ``on_sweep()`` when the Sweep button is pressed.
    """

    def __init__(
        self,
        s: Settings,
        *,
        on_training_change: Callable[[], None],
        on_view_change: Callable[[], None],
        on_sweep_parameter: Callable[[], None],
        on_sweep: Callable[[], None],
    ):
        self._holding = False  # True while set() moves several controls: one retraining, not many
        self._on_training_change = on_training_change
        style = {"description_width": "92px"}
        wide = widgets.Layout(width="330px")
        lambda_options = [("off" if v == 0 else _label(v), v) for v in LAMBDA_CHOICES]
        if s.lambd not in LAMBDA_CHOICES:
            lambda_options.append((_label(s.lambd), s.lambd))
            lambda_options.sort(key=lambda item: item[1])
        self.lambd = widgets.SelectionSlider(
            options=lambda_options, value=s.lambd, description="λ (L2)", style=style, layout=wide
        )
        self.lambd.add_class("rex-lambda")
        self.keep_prob = widgets.FloatSlider(value=s.keep_prob, min=KEEP_PROB_RANGE[0],
                                             max=KEEP_PROB_RANGE[1], step=0.01,
                                             description="keep_prob", readout_format=".2f",
                                             style=style, layout=wide)  # fmt: skip
        self.regularizer = widgets.ToggleButtons(options=REGULARIZERS, value=s.regularizer,
                                                 tooltips=["no regularization", "L2 (weight decay)",
                                                           "inverted dropout on hidden layers",
                                                           "L2 and dropout together"],
                                                 style={"button_width": "76px"})  # fmt: skip
        rates = sorted({*LEARNING_RATES, s.learning_rate})
        self.learning_rate = widgets.SelectionSlider(options=[(_label(r), r) for r in rates],
                                                     value=s.learning_rate,
                                                     description="learning rate",
                                                     style=style, layout=wide)  # fmt: skip
        counts = sorted({*ITERATION_CHOICES, s.num_iterations})
        self.num_iterations = widgets.SelectionSlider(options=[(str(n), n) for n in counts],
                                                      value=s.num_iterations,
                                                      description="iterations",
                                                      style=style, layout=wide)  # fmt: skip
        self.dataset = widgets.Dropdown(options=DATASETS, value=s.dataset, description="dataset",
                                        style=style, layout=wide)  # fmt: skip
        self.noise = widgets.FloatSlider(
            value=s.noise, min=0.0, max=0.5, step=0.05, description="noise", style=style, layout=wide
        )
        self.train_share = widgets.FloatSlider(value=s.train_share, min=0.1, max=0.9, step=0.05,
                                               description="train share", style=style,
                                               layout=wide)  # fmt: skip
        self.seed = widgets.BoundedIntText(value=s.seed, min=0, max=999_999,
                                           description="dropout seed", style=style,
                                           layout=widgets.Layout(width="200px"))  # fmt: skip
        self.show_test = widgets.Checkbox(value=True, description="show test points",
                                          indent=False)  # fmt: skip
        self.show_test.add_class("rex-show-test")
        self.slow = widgets.Checkbox(value=False, description="slow motion", indent=False)
        self.image = widgets.Image(format="jpeg", layout=widgets.Layout(width="352px"))
        self.image.add_class("rex-boundary")
        self.curves_image = widgets.Image(format="png", layout=widgets.Layout(width="368px"))
        self.curves_image.add_class("rex-curves")
        self.caption = widgets.HTML(layout=widgets.Layout(width="352px"))
        self.caption.add_class("rex-caption")
        self.accuracy = widgets.HTML()
        self.accuracy.add_class("rex-accuracy")
        self.status = widgets.HTML()
        self.status.add_class("rex-status")
        self.error_box = widgets.HTML()
        self.error_box.add_class("rex-errors")
        self.notes = widgets.HTML()
        self.notes.add_class("rex-notes")
        self.link = widgets.HTML()
        self.sweep_parameter = widgets.ToggleButtons(options=[("λ", "lambd"),
                                                              ("keep_prob", "keep_prob")],
                                                     value="lambd", description="sweep",
                                                     style={"description_width": "40px",
                                                            "button_width": "92px"})  # fmt: skip
        self.sweep_button = widgets.Button(description="Sweep", icon="chart-line",
                                           tooltip="train once per value of the grid and plot "
                                           "train/test accuracy")  # fmt: skip
        self.sweep_button.add_class("rex-sweep-button")
        self.sweep_status = widgets.HTML()
        self.sweep_image = widgets.Image(format="png", layout=widgets.Layout(width="512px", display="none"))
        self.sweep_image.add_class("rex-sweep")
        self.keep_prob.add_class("rex-keep-prob")
        self.regularizer.add_class("rex-regularizer")
        self.dataset.add_class("rex-dataset")
        self.sync_enabled(s)

        training = (self.regularizer, self.lambd, self.keep_prob, self.learning_rate,
                    self.num_iterations, self.dataset, self.noise, self.train_share,
                    self.seed)  # fmt: skip
        for control in training:
            control.observe(self._on_change, names="value")
        self.show_test.observe(lambda change: on_view_change(), names="value")
        self.sweep_parameter.observe(lambda change: on_sweep_parameter(), names="value")
        self.sweep_button.on_click(lambda button: on_sweep())

        controls = widgets.VBox([
            widgets.HTML("regularizer"), self.regularizer, self.lambd, self.keep_prob, self.learning_rate,
            self.num_iterations, self.dataset, self.noise, self.train_share, self.seed,
            widgets.HBox([self.show_test, self.slow]), self.link,
        ], layout=widgets.Layout(width="340px"))  # fmt: skip
        # What the marks of the picture mean (its colours come from painters._CLASS_COLOURS).
        legend = widgets.HTML(
            '<div class="rex-legend-values">'
            '<span style="color:#1864ab">●</span> training point, '
            '<span style="color:#1864ab">▲</span> test point; '
            '<span style="color:#1864ab">blue</span> = label 1 (France wins the header), '
            '<span style="color:#d9480f">orange</span> = label 0. '
            "Shading: the network's prediction, the dark line its 0.5 boundary.</div>",
            layout=widgets.Layout(width="352px"),
        )
        legend.add_class("rex-legend")
        picture = widgets.VBox([self.image, legend, self.caption, self.accuracy])
        views = widgets.HBox([controls, picture, self.curves_image],
                             layout=widgets.Layout(flex_flow="row wrap"))  # fmt: skip
        sweep = widgets.VBox([widgets.HBox([self.sweep_parameter, self.sweep_button]),
                              self.sweep_status, self.sweep_image])  # fmt: skip
        title = widgets.HTML("<b>Regularization explorer</b>: the assignment's network "
                             "[2, 20, 3, 1] retrains from the same start whenever a control "
                             "moves.")  # fmt: skip
        self.widget = widgets.VBox([title, self.notes, views, self.status, self.error_box, sweep])
        self.widget.add_class("rex-app")

    def sync_enabled(self, s: Settings) -> None:
        """Enable only the controls that setting ``s`` uses."""
        self.lambd.disabled = s.regularizer not in ("L2", "both")
        self.keep_prob.disabled = s.regularizer not in ("dropout", "both")
        generated = s.dataset != "football"
        self.noise.disabled = not generated
        self.train_share.disabled = not generated

    # -- reading and changing the controls ---------------------------------

    @property
    def settings(self) -> Settings:
        """The values the controls show now."""
        return Settings(
            dataset=self.dataset.value, noise=round(float(self.noise.value), 6),
            train_share=round(float(self.train_share.value), 6),
            regularizer=self.regularizer.value, lambd=float(self.lambd.value),
            keep_prob=round(float(self.keep_prob.value), 6),
            learning_rate=float(self.learning_rate.value),
            num_iterations=int(self.num_iterations.value), seed=int(self.seed.value),
        )  # fmt: skip

    def set(self, values: dict) -> bool:
        """Move several training controls at once, without a retraining per control.

        ``values`` maps fields of ``Settings`` to new values, validated first:
        a value the controls cannot take raises RegularizationInputError and
        moves nothing. True when there was anything to move.
        """
        unknown = set(values) - set(TRAINING_CONTROLS)
        if unknown:
            raise RegularizationInputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        target = replace(self.settings, **values).validated()
        if target.lambd not in [value for _, value in self.lambd.options]:
            raise RegularizationInputError(
                f"lambd={target.lambd} is not a stop of the slider; choose one of "
                f"{', '.join(_label(v) for v in LAMBDA_CHOICES)}."
            )
        for name, control in (("learning_rate", self.learning_rate),
                              ("num_iterations", self.num_iterations)):  # fmt: skip
            if getattr(target, name) not in [value for _, value in control.options]:
                choices = ", ".join(label for label, _ in control.options)
                raise RegularizationInputError(f"{name} must be one of {choices}.")
        self._holding = True
        try:
            for name in TRAINING_CONTROLS:
                if name in values:
                    getattr(self, name).value = getattr(target, name)
        finally:
            self._holding = False
        return bool(values)

    def _on_change(self, change=None) -> None:
        if not self._holding:
            self._on_training_change()
