namespace Backtesting.Engine.Indicators;

/// <summary>A moving average of one value series, so strategies can take SMA or EMA by parameter.</summary>
public interface IMovingAverage : IIndicator
{
    double Value { get; }

    void Update(double value);
}
