// Runs in every test worker before test files: nock must patch fetch before any WebClient exists.
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
