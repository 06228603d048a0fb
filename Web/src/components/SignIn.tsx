// API-key sign-in. The key is checked against the API before it is kept for the browser session.
import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { ApiClient, ApiError } from '../api/client';

export function SignIn({ onSignedIn }: { onSignedIn(key: string): void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async ({ apiKey }: { apiKey: string }) => {
    setBusy(true);
    setError(null);
    try {
      await new ApiClient(apiKey.trim()).list({ pageSize: 1 });
      onSignedIn(apiKey.trim());
    } catch (e) {
      setError(e instanceof ApiError && (e.status === 401 || e.status === 403)
        ? 'This API key was not accepted.' : `Could not reach the API: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', background: '#f5f5f5' }}>
      <Card style={{ width: 420 }} data-testid="sign-in">
        <Typography.Title level={3}>Backtesting</Typography.Title>
        <Typography.Paragraph type="secondary">
          Sign in with your API key. It is kept only for this browser tab's session.
        </Typography.Paragraph>
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item name="apiKey" label="API key" htmlFor="api-key" rules={[{ required: true, message: 'enter your API key' }]}>
            <Input.Password id="api-key" autoFocus autoComplete="off" />
          </Form.Item>
          {error && <Alert type="error" message={error} style={{ marginBottom: 12 }} role="alert" />}
          <Button type="primary" htmlType="submit" loading={busy} block>Sign in</Button>
        </Form>
      </Card>
    </div>
  );
}
