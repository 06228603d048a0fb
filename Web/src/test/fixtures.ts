// Schemas in the API's shape (ParameterSchema in Engine/Strategies/Parameters.cs), as the catalog describes
// two of the templates in docs/configuration.md. The form must follow whatever the schema says.
import type { ConfigurationOptions, InstrumentInfo, StrategyTemplate } from '../api/types';

export const STRATEGIES: StrategyTemplate[] = [
  {
    name: 'MovingAverageCross',
    description: 'Buys when the fast average crosses above the slow one',
    maxInstruments: 50,
    parameters: [
      { name: 'fastPeriod', type: 'integer', required: true, default: 10, min: 1, max: 500, description: 'Bars in the fast moving average', allowed: null },
      { name: 'slowPeriod', type: 'integer', required: true, default: 30, min: 2, max: 1000, description: 'Bars in the slow moving average', allowed: null },
      { name: 'maType', type: 'string', required: false, default: 'SMA', min: null, max: null, description: 'Kind of moving average', allowed: ['SMA', 'EMA'] },
      { name: 'allowShort', type: 'boolean', required: false, default: false, min: null, max: null, description: 'Also trade the downward cross short', allowed: null },
    ],
  },
  {
    name: 'BollingerBands',
    description: 'Mean reversion at the bands',
    maxInstruments: 50,
    parameters: [
      { name: 'period', type: 'integer', required: true, default: 20, min: 2, max: 500, description: 'Bars in the moving average and standard deviation', allowed: null },
      { name: 'stdDevs', type: 'number', required: true, default: 2, min: 0.1, max: 10, description: 'Band width in standard deviations', allowed: null },
    ],
  },
  { name: 'BuyAndHold', description: 'Buys once and holds', maxInstruments: 50, parameters: [] },
];

export const INSTRUMENTS: InstrumentInfo[] = [
  { id: 'SPY.ARCA', symbol: 'SPY', venue: 'ARCA', currency: 'USD', availability: { daily: { first: '1998-01-02', last: '2021-03-31' } } },
  { id: 'AAPL.NASDAQ', symbol: 'AAPL', venue: 'NASDAQ', currency: 'USD', availability: { daily: { first: '1998-01-02', last: '2021-03-31' }, hour: { first: '2013-10-07', last: '2013-10-11' } } },
];

/** GET /api/v1/configuration/options as the API answers it (the engine's word tables and BacktestConfig defaults). */
export const CONFIGURATION_OPTIONS: ConfigurationOptions = {
  currencies: ['USD', 'EUR', 'GBP', 'JPY', 'CHF'],
  accountTypes: ['cash', 'margin'],
  resolutions: ['tick', 'minute', 'hour', 'daily'],
  dataTypes: ['bars', 'ticks'],
  adjustments: ['raw', 'split', 'splitDividend'],
  fillModels: ['nextBarOpen', 'sameBarClose', 'nextTick'],
  slippageModels: ['none', 'fixedBps', 'fixedTicks', 'volumeShare'],
  commissionModels: ['none', 'percent', 'fixed', 'perShare'],
  sizingModes: ['fixedQuantity', 'fixedNotional', 'percentEquity', 'volatilityTarget'],
  priorities: ['low', 'normal', 'high', 'urgent'],
  defaults: {
    strategyClass: '',
    strategyConfig: {},
    startDate: '',
    endDate: '',
    instruments: [],
    venues: [],
    initialBalance: 100000,
    baseCurrency: 'USD',
    accountType: 'cash',
    riskFreeRate: 0,
    dataConfiguration: {
      resolution: 'daily',
      dataType: 'bars',
      adjustment: 'splitDividend',
      qualityFilters: { dropInvalid: true, dropZeroVolume: false, spikeThreshold: 0, reportGaps: true },
      warmup: 0,
      extendedHours: false,
      fxCarryForward: false,
    },
    executionSettings: {
      fillModel: 'nextBarOpen',
      slippage: { model: 'none', bps: 0, ticks: 0, impact: 0.1 },
      commission: { model: 'none', rate: 0, amount: 0, perShare: 0, minimum: 0, maximumPercent: 0 },
      maxVolumeParticipation: 0,
    },
    riskSettings: {
      positionSizing: { mode: 'percentEquity', quantity: 100, notional: 10000, percent: 0.95, riskPercent: 0.01, atrPeriod: 14 },
      limits: { maxPositionQuantity: 0, maxPositionPercent: 0, maxOpenPositions: 0 },
      stops: { stopLossPercent: 0, takeProfitPercent: 0 },
      maxLeverage: 1,
      drawdownHalt: 0,
    },
    benchmark: null,
  },
  defaultPriority: 'normal',
  maxDurationYears: 5,
};
