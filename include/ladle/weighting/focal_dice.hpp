// ladle/weighting/focal_dice.hpp: per-sample difficulty factors of the focal loss and the
// self-adjusting Dice loss (Li et al., ACL 2020), and the two Dice losses built on them.
//
// Contract:
//  * p: predicted probability of the positive (or true) class, float or double in [0, 1];
//    y: targets in [0, 1] (0/1, or soft), any integer or float view of the same length.
//    Inputs are never modified.
//  * focal_factors:          f_i = (1 - p_i)^gamma          (gamma >= 0; the focal loss is f_i CE_i)
//  * self_adjusting_factors: a_i = (1 - p_i)^alpha p_i       (alpha >= 0; the "adjusted" probability)
//  * dice_instance_losses:   the paper's per-instance form,
//      1 - (2 a_i y_i + gamma) / (a_i + y_i + gamma)        (defaults alpha = 1, gamma = 1)
//  * dice_batch_loss:        the reference code's batch form for one class (sums over the batch),
//      1 - (2 sum a y + smooth) / (sum a + sum y + smooth), or with square_denominator
//      1 - (2 sum a y + smooth) / (sum a^2 + sum y^2 + smooth)
//      (defaults alpha = 0, smooth = 1e-4 as the code; its MRPC script uses alpha 0.01,
//      smooth 1, square denominator). For C classes, call it per class column and add.
//  * Errors (ladle::error, nothing written): empty input, length mismatch, p or y NaN/Inf or
//    outside [0, 1], alpha / gamma < 0 or non-finite, smooth <= 0 or non-finite (instance form:
//    gamma > 0 so 0/0 cannot occur), out overlapping an input.
//
// Complexity O(n); no extra memory.
#pragma once

#include "ladle/config.hpp"
#include "ladle/core/view.hpp"

namespace ladle {

template <class P, class T>
void focal_factors_into(vector_view<P> p, vector_view<T> out, double gamma = 2.0);

template <class P, class T>
void self_adjusting_factors_into(vector_view<P> p, vector_view<T> out, double alpha = 1.0);

struct dice_instance_options {
  double alpha = 1.0;  ///< exponent of (1 - p)
  double gamma = 1.0;  ///< smoothing term in numerator and denominator (> 0)
};

template <class P, class Y, class T>
void dice_instance_losses_into(vector_view<P> p, vector_view<Y> y, vector_view<T> out,
                               const dice_instance_options& opts = {});

struct dice_batch_options {
  double alpha = 0.0;     ///< exponent of (1 - p)
  double smooth = 1e-4;   ///< added to numerator and denominator (> 0)
  bool square_denominator = false;
};

template <class P, class Y>
double dice_batch_loss(vector_view<P> p, vector_view<Y> y, const dice_batch_options& opts = {});

}  // namespace ladle

#include "ladle/weighting/detail/focal_dice_impl.hpp"
