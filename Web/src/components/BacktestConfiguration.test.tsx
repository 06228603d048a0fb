import { describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
import { BacktestConfiguration } from './BacktestConfiguration';
import { ApiError } from '../api/client';
import { INSTRUMENTS, STRATEGIES } from '../test/fixtures';
import type { BacktestConfig } from '../api/types';

const ready = {
  strategyClass: 'MovingAverageCross',
  instruments: ['SPY.ARCA'],
  dateRange: [dayjs('2019-01-02'), dayjs('2019-12-31')] as [dayjs.Dayjs, dayjs.Dayjs],
};

// Ant Design's selects carry the label on two elements; the first is the input.
const field = (label: string) => screen.getAllByLabelText(label)[0];
const button = async (name: string) => (await screen.findByText(name)).closest('button') as HTMLElement;

function formItemOf(element: HTMLElement) {
  return element.closest('.ant-form-item') as HTMLElement;
}

async function reviewAndRun() {
  fireEvent.click(await button('Review and run'));
  const run = await button('Run backtest');
  await act(async () => {
    fireEvent.click(run);
  });
}

describe('BacktestConfiguration: the parameter form comes from the schema', () => {
  it('renders one labelled field per parameter, typed, with its default, bounds and description', async () => {
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    const form = screen.getByTestId('parameter-form');

    const fast = await within(form).findByLabelText('fastPeriod');
    await waitFor(() => expect(fast).toHaveValue('10'));
    expect(fast).toHaveAttribute('aria-valuemin', '1');
    expect(fast).toHaveAttribute('aria-valuemax', '500');
    expect(within(form).getByLabelText('slowPeriod')).toHaveValue('30');
    expect(within(form).getByLabelText('allowShort')).toHaveAttribute('role', 'switch');
    expect(within(form).getByLabelText('allowShort')).toHaveAttribute('aria-checked', 'false');
    expect(within(form).getAllByLabelText('maType')[0]).toHaveAttribute('role', 'combobox');
    expect(within(form).getByText('SMA')).toBeInTheDocument();
    expect(screen.getByTestId('param-help-fastPeriod')).toHaveTextContent('Bars in the fast moving average (1 to 500; default 10, integer)');
    // Required parameters carry the required mark on their label.
    expect(formItemOf(fast).querySelector('.ant-form-item-required')).not.toBeNull();
    expect(formItemOf(within(form).getAllByLabelText('maType')[0]).querySelector('.ant-form-item-required')).toBeNull();
    expect(within(form).queryByLabelText('period')).toBeNull();
  });

  it('regenerates the fields when another strategy is chosen', async () => {
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()} initial={ready} />);
    fireEvent.mouseDown(field('Strategy').closest('.ant-select')!.querySelector('.ant-select-selector')!);
    fireEvent.click(await screen.findByText('BollingerBands', { selector: '.ant-select-item-option-content span' }));

    const form = screen.getByTestId('parameter-form');
    await waitFor(() => expect(within(form).getByLabelText('period')).toHaveValue('20'));
    expect(within(form).getByLabelText('stdDevs')).toHaveValue('2.0');
    expect(within(form).getByLabelText('stdDevs')).toHaveAttribute('aria-valuemin', '0.1');
    expect(within(form).queryByLabelText('fastPeriod')).toBeNull();
  });

  it('says so when a strategy has no parameters', () => {
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={vi.fn()}
      initial={{ ...ready, strategyClass: 'BuyAndHold' }} />);
    expect(screen.getByText('This strategy has no parameters.')).toBeInTheDocument();
  });

  it('checks the schema bounds before anything is sent', async () => {
    const onSubmit = vi.fn();
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit}
      initial={{ ...ready, strategyConfig: { fastPeriod: 0, slowPeriod: 30 } }} />);
    fireEvent.click(await button('Review and run'));
    expect(await screen.findByText('fastPeriod must be between 1 and 500')).toBeInTheDocument();
    expect(screen.queryByText('Run backtest')).toBeNull();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('asks for confirmation, then sends the config with the schema\'s parameters', async () => {
    let sent: BacktestConfig | null = null;
    const onSubmit = vi.fn(async (config: BacktestConfig) => {
      sent = config;
    });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit} initial={ready} />);
    fireEvent.click(await button('Review and run'));
    const summary = await screen.findByTestId('confirm-summary');
    expect(summary).toHaveTextContent('MovingAverageCross');
    expect(summary).toHaveTextContent('fastPeriod=10, slowPeriod=30, maType=SMA, allowShort=false');
    expect(summary).toHaveTextContent('2019-01-02 → 2019-12-31');
    expect(onSubmit).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.click(await button('Run backtest'));
    });
    expect(onSubmit).toHaveBeenCalledWith(expect.anything(), 'normal');
    expect(sent).toMatchObject({
      strategyClass: 'MovingAverageCross',
      strategyConfig: { fastPeriod: 10, slowPeriod: 30, maType: 'SMA', allowShort: false },
      startDate: '2019-01-02',
      endDate: '2019-12-31',
      instruments: ['SPY.ARCA'],
      initialBalance: 100000,
      baseCurrency: 'USD',
      benchmark: null,
      dataConfiguration: { resolution: 'daily', dataType: 'bars', adjustment: 'splitDividend' },
    });
    expect(sent!).not.toHaveProperty('dateRange');
    expect(sent!).not.toHaveProperty('priority');
  });
});

describe('BacktestConfiguration: the server\'s validation messages appear on the fields', () => {
  it('puts each ProblemDetails error under the field it names and lists them all', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(400, 'One or more validation errors occurred.', undefined, {
        'strategyConfig.slowPeriod': ['slowPeriod must be more than fastPeriod'],
        'instruments[0]': ['no daily bars data for SPY.ARCA between 2019-01-02 and 2019-12-31'],
        initialBalance: ['initialBalance must be at least 1,000'],
        endDate: ['the backtest cannot span more than 5 years'],
        'riskSettings.maxLeverage': ['maxLeverage above 1 needs accountType margin'],
        'dataConfiguration.dataType': ['dataType ticks needs resolution tick'],
        $: ['the config must be a JSON object'],
      });
    });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit} initial={ready} />);
    await reviewAndRun();

    const onField = async (label: string, text: string) => {
      const item = formItemOf(field(label));
      await waitFor(() => expect(within(item).getByText(text)).toBeInTheDocument());
      expect(item).toHaveClass('ant-form-item-has-error');
    };
    await onField('slowPeriod', 'slowPeriod must be more than fastPeriod');
    await onField('Instruments', 'no daily bars data for SPY.ARCA between 2019-01-02 and 2019-12-31');
    await onField('Initial capital', 'initialBalance must be at least 1,000');
    await onField('Max leverage', 'maxLeverage above 1 needs accountType margin');
    await onField('Bars or ticks', 'dataType ticks needs resolution tick');
    const dates = formItemOf(document.getElementById('field-dateRange')!);
    expect(within(dates).getByText('the backtest cannot span more than 5 years')).toBeInTheDocument();

    // Every error, placed or not, is also listed at the top.
    const alert = screen.getByTestId('server-errors');
    expect(alert).toHaveTextContent('The server did not accept this configuration');
    expect(alert).toHaveTextContent('$ the config must be a JSON object');
    expect(alert).toHaveTextContent('instruments[0] no daily bars data');
    expect(within(alert).getAllByRole('listitem')).toHaveLength(7);
  });

  it('clears a field\'s server error once it is edited', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(400, 'Validation failed', undefined, { 'strategyConfig.fastPeriod': ['fastPeriod must be less than slowPeriod'] });
    });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit} initial={ready} />);
    await reviewAndRun();
    const fast = field('fastPeriod');
    await waitFor(() => expect(formItemOf(fast)).toHaveTextContent('fastPeriod must be less than slowPeriod'));
    fireEvent.change(fast, { target: { value: '12' } });
    await waitFor(() => expect(formItemOf(fast)).not.toHaveTextContent('fastPeriod must be less than slowPeriod'));
    await waitFor(() => expect(screen.queryByTestId('server-errors')).toBeNull());
  });

  it('shows a rate limit with its wait', async () => {
    const onSubmit = vi.fn(async () => {
      throw new ApiError(429, 'Too Many Requests', 'at most 10 starts per 5 minutes', {}, 120);
    });
    render(<BacktestConfiguration strategies={STRATEGIES} instruments={INSTRUMENTS} onSubmit={onSubmit} initial={ready} />);
    await reviewAndRun();
    expect(await screen.findByTestId('server-errors')).toHaveTextContent('at most 10 starts per 5 minutes');
  });
});
