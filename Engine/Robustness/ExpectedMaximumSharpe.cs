using MathNet.Numerics;
using MathNet.Numerics.Distributions;

namespace Backtesting.Engine.Robustness;

/// <summary>
/// The expected maximum of N independent standard normal draws, by the approximation of Bailey and López de Prado:
/// E[max] ≈ (1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)), γ the Euler–Mascheroni constant. Scaled by the standard deviation
/// of the trials' Sharpe ratios it is the Sharpe ratio the best of N skill-less trials reaches by luck alone; it is the
/// one home of that factor for the deflated Sharpe ratio and the minimum backtest length.
/// </summary>
public static class ExpectedMaximumSharpe
{
    /// <summary>E[max] of <paramref name="trials"/> (N ≥ 2) independent standard normals, approximately.</summary>
    public static double StandardNormalFactor(int trials)
    {
        RobustnessArguments.RequireTrials(trials, nameof(trials));
        var gamma = Constants.EulerMascheroni;
        var n = (double)trials;
        return (1 - gamma) * Normal.InvCDF(0, 1, 1 - 1 / n) + gamma * Normal.InvCDF(0, 1, 1 - 1 / (n * Math.E));
    }
}
