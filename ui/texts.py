"""Words for a first-time visitor: the sidebar's help texts and the one-line captions under each
chart and table. Plain strings and pure functions, so they are tested without Streamlit.

Each help text says what a control does, a typical range, and what too high or too low looks like
in the training chart.
"""
from __future__ import annotations

POST_AUTHOR = "Ritchie Vink"
POST_YEAR = 2017
POST_TITLE = "Programming a neural network from scratch"
POST_URL = "https://www.ritchievink.com/blog/2017/07/10/programming-a-neural-network-from-scratch/"
POST_LINK = f"[{POST_TITLE}]({POST_URL}) by {POST_AUTHOR} ({POST_YEAR})"

# The post's lesson in two sentences (README, "Why the post worked").
POST_REASON = (
    "The post's MSE gradient multiplies by the sigmoid's slope σ′ taken at the already activated "
    "output a = σ(z) instead of at z, and σ′(a) always lies between 0.20 and 0.25, so every wrong "
    "output keeps getting a steady push. The correct gradient uses σ′(z) = a(1 − a), which is nearly "
    "zero when an output is confidently wrong, so those units hardly learn and the network stalls."
)

HELP: dict[str, str] = {
    "preset_post": f"The network of {POST_AUTHOR}'s {POST_YEAR} blog post, with its exact gradient rules.",
    "preset_best": "The most accurate settings we measured (about 99% held out); takes about a minute.",
    "preset_fast": "A small network that trains in a few seconds: a good place to start.",
    "n_layers": "How many hidden layers sit between the 64 pixels and the 10 digit outputs. 1 is plenty "
                "for 8×8 digits; 3–4 train slower and, with sigmoid or tanh, may stall (a flat loss curve).",
    "per_layer_activation": "Pick a different activation for each hidden layer instead of one for all.",
    "units": "How many units (neurons) this layer has. Typical: 32–256. Too few (under ~10): both curves "
             "stop low, the network cannot hold the patterns. More: slower, small extra gain.",
    "activation": "The function each hidden unit applies to its input sum. ReLU is the usual choice; "
                  "sigmoid and tanh learn slower with several layers; identity makes the network linear "
                  "(accuracy stops around 95%).",
    "output_activation": "How the 10 outputs become scores. Softmax makes them probabilities that sum to 1 "
                         "(pairs with cross-entropy); sigmoid scores each digit on its own (the post's choice).",
    "loss": "What training minimises. Cross-entropy is the standard for classes. The post used MSE with a "
            "slip in its gradient that happened to help; the correct MSE learns far slower with sigmoid "
            "outputs (accuracy stuck low).",
    "optimizer": "How the weights move each step. Adam adapts the step per weight and is forgiving; SGD "
                 "needs a well-chosen learning rate; momentum speeds SGD up on long slopes.",
    "learning_rate": "The size of each step. Typical: 0.001–0.01 for Adam, 0.01–0.5 for SGD. Too high: the loss "
                     "jumps around or shoots up (the run diverges); too low: the curves barely move.",
    "momentum": "How much of the previous step carries into the next (0 = plain SGD). Typical 0.9. Too high "
                "(0.99): the loss swings up and down before settling.",
    "nesterov": "Looks ahead along the momentum before taking the gradient: usually a slightly smoother loss.",
    "weight_gradient": "The post summed a batch's weight gradients (a step 15 times larger for batches of 15); "
                       "scikit-learn and this lab average them. Summing with a large learning rate diverges.",
    "epochs": "How many passes over the training digits. Typical: 15–50. Too few: the curves are still "
              "climbing when the run ends; too many: validation loss turns up again (overfitting) while "
              "training loss keeps falling.",
    "batch_size": "How many digits each step averages over. Typical: 16–64. Small: noisy, wiggly curves and "
                  "slower epochs; large: smooth curves but fewer steps, so it learns slower per epoch.",
    "alpha": "L2 penalty: pulls weights toward zero to fight overfitting. Typical: 0.0001–0.001. Too high "
             "(0.1): both accuracies stay low; 0: a bigger gap between train and validation curves.",
    "validation_fraction": "The share of the training digits kept aside each run to draw the orange "
                           "validation curves. Typical: 10–20%. 0% shows training curves only, which "
                           "flatter the network; the 25% held-out test set is separate either way.",
    "early_stopping": "Needs a validation split: stops when its accuracy has not improved for 10 epochs in a "
                      "row and keeps the best epoch's weights.",
    "cosine_decay": "Lowers the learning rate each epoch along half a cosine, from the rate above to zero at "
                    "the last epoch: big steps early, fine ones at the end. Off: the same rate throughout.",
    "input_scale": "How pixel values (0..16) reach the network. 0..1 is the usual choice; the post fed raw "
                   "0..16, which needs a smaller learning rate or the loss jumps.",
    "seed": "The random start (weights, shuffling). Same seed and settings: the same run. Change it to see "
            "how much of a difference between runs is luck.",
    "shifts": "Adds four copies of every training digit moved half a pixel up, down, left and right: the "
              "largest gain in held-out accuracy we measured. Epochs take about five times longer.",
    "augment": "Adds copies of every training digit redrawn with other stroke widths, slants, rotations and "
               "warps: slower, but drawn digits are recognised much better. 0 = off. Typical: 0 or 4–8. The "
               "copies are harder than the real digits, so training accuracy sits below validation.",
}


def training_chart(config) -> str:
    """The line under the live training chart: what the curves are, and why they may disagree."""
    line = ("**What am I looking at?** Left: the loss (how wrong the network is, lower is better; log "
            "scale). Right: the share of digits it gets right. Blue: the training digits it learns "
            "from; orange: validation digits it never trains on.")
    if config.validation_fraction == 0:
        return line + " With a 0% validation split there is no orange curve: set one in the sidebar."
    if config.augment or config.shifts:
        return line + (" Here the training digits include shifted or re-rendered copies, which are harder "
                       "than the originals, so blue can sit *below* orange: that is expected, not a bug.")
    return line + (" Blue above orange is normal; a widening gap (orange loss turning up) means the network "
                   "is memorising its training digits: overfitting.")


HISTORY_CHART = ("**What am I looking at?** One line per run you trained, for the curve picked on the right. "
                 "The legend names what differs between the runs; the table lists every setting, "
                 "differences highlighted.")
CONFUSION = ("**What am I looking at?** Every held-out digit counted once: its row is the true digit, its "
             "column the network's answer. The diagonal is right; any other cell is a mistake. Click a cell "
             "to see its images.")
PER_DIGIT = ("**What am I looking at?** For each digit: *precision* — of the images the network called this "
             "digit, the share that were; *recall* — of the real ones, the share it found; F1 combines both.")
WEIGHTS = ("**What am I looking at?** Each tile is one first-layer unit: its 64 incoming weights laid out as "
           "the 8×8 image. Red: ink there excites the unit; blue: ink there inhibits it; white: it ignores "
           "that pixel. All tiles share the colour scale below.")
PROBABILITIES = ("**What am I looking at?** The network's confidence for each of the ten digits; the tallest "
                 "bar is its answer.")
