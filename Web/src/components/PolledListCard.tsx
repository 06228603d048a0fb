// A card holding one polled list of jobs (usePolledList): its table with the server's paging, a refresh button, and
// why the last read failed (the rows last read stay shown meanwhile).
import { Alert, Button, Card, Table, type TableColumnsType } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { LIST_POLL_MS, type PolledList } from './usePolledList';

export function PolledListCard<T extends { id: string }>({ title, testId, list, columns }: {
  title: string;
  /** The card's data-testid; the error is `${testId}-error`, the refresh button `${testId}-refresh`. */
  testId: string;
  list: PolledList<T>;
  columns: TableColumnsType<T>;
}) {
  return (
    <Card title={title} size="small" data-testid={testId}
      extra={<Button size="small" icon={<ReloadOutlined />} onClick={list.refresh} aria-label={`Refresh ${title.toLowerCase()}`}
        data-testid={`${testId}-refresh`}>Refresh</Button>}>
      {list.error && (
        <Alert type="warning" showIcon style={{ marginBottom: 8 }} data-testid={`${testId}-error`}
          message={`Could not read the list: ${list.error}`}
          description={`Read again every ${LIST_POLL_MS / 1000} s${list.items.length ? '; the rows below are from the last read that worked.' : '.'}`} />
      )}
      <Table<T> size="small" rowKey="id" dataSource={list.items} loading={list.loading && !list.items.length}
        pagination={{ current: list.page, pageSize: list.pageSize, total: list.total, onChange: list.setPage }}
        columns={columns} />
    </Card>
  );
}
